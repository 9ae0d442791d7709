/// bpfleet's version: bpfleetd's and the bpfleet command line's, built
/// together from one tree.
public enum BpfleetVersion {
    public static let current = "0.1.0"
}
