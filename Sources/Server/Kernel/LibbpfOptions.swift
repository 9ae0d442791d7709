/// The `sz` of a libbpf options struct: the end of its last field, as
/// libbpf's OPTS_VALID measures it. Not `MemoryLayout.size`: Swift does not
/// keep a struct's tail padding zeroed across copies, and libbpf refuses
/// options whose bytes past the last field it knows are not zero
/// ("bpf_tc_hook has non-zero extra bytes").
func libbpfOptionsSize<Options, Field>(_ lastField: KeyPath<Options, Field>) -> Int {
    MemoryLayout<Options>.offset(of: lastField)! + MemoryLayout<Field>.size
}
