import ArgumentParser

struct ProbeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Probes: an object's programs loaded into the kernel under a name, and their links.",
        subcommands: [
            ProbeLoadCommand.self, ProbeAttachCommand.self, ProbeDetachCommand.self, ProbeUnloadCommand.self,
            ProbeListCommand.self, ProbeGetCommand.self,
        ])
}
