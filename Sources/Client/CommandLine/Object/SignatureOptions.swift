import ArgumentParser

/// `--signature SIG`, for the commands that send an object file to nodes:
/// signature files (`bpfleet sign`) sent with it for the nodes' object
/// policy; none named, FILE.sig when it exists (docs/security.md).
struct SignatureOptions: ParsableArguments {
    @Option(name: .customLong("signature"), help: ArgumentHelp(
        "A signature file of the object (bpfleet sign); repeat for more signers. Default: FILE.sig when it exists.",
        valueName: "SIG"))
    var files: [String] = []
}
