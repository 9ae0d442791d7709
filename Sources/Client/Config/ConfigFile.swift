import Foundation

/// Which config file the client reads: `--config FILE`, else
/// `$BPFLEET_CONFIG`, else `$XDG_CONFIG_HOME/bpfleet/config.yaml`
/// (`~/.config/bpfleet/config.yaml`) if it exists. A file named by the flag
/// or the variable must exist; the default one may not.
public enum ConfigFile {
    public static func path(flag: String?, environment: [String: String]) -> (path: String, required: Bool)? {
        if let flag { return (flag, true) }
        if let named = environment["BPFLEET_CONFIG"], !named.isEmpty { return (named, true) }
        if let xdg = environment["XDG_CONFIG_HOME"], xdg.hasPrefix("/") {
            return (xdg + "/bpfleet/config.yaml", false)
        }
        guard let home = environment["HOME"] ?? homeDirectory() else { return nil }
        return (home + "/.config/bpfleet/config.yaml", false)
    }

    /// Reads and parses the file; nil when an optional file is not there.
    public static func load(flag: String?, environment: [String: String]) throws(ConfigError) -> ClientConfig? {
        guard let (path, required) = path(flag: flag, environment: environment) else { return nil }
        if !required, !FileManager.default.fileExists(atPath: path) { return nil }
        let text: String
        switch TextFile.read(path) {
        case .success(let read): text = read
        case .failure(let reason): throw ConfigError(file: path, line: nil, "cannot read it: \(reason.text)")
        }
        return try ClientConfig(yaml: text, file: path, home: environment["HOME"] ?? homeDirectory())
    }

    private static func homeDirectory() -> String? {
        let home = NSHomeDirectory()
        return home.isEmpty ? nil : home
    }
}
