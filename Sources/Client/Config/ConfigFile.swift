import Foundation

/// Which config file the client reads: `--config FILE`, else
/// `$BPFLEET_CONFIG`, else `$XDG_CONFIG_HOME/bpfleet/config.yaml`
/// (`~/.config/bpfleet/config.yaml`) if it exists. A file named by the flag
/// or the variable must exist; the default one may not. An inventory, when
/// one is named, must exist.
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

    /// Reads and parses the file, and the inventory: `--inventory FILE`
    /// (`inventory`), else `$BPFLEET_INVENTORY`, else the file's
    /// `inventory:` key. Its nodes join the file's. Nil when there is
    /// neither a config file nor an inventory.
    public static func load(flag: String?, inventory: String? = nil,
                            environment: [String: String]) throws(ConfigError) -> ClientConfig? {
        let home = environment["HOME"] ?? homeDirectory()
        var config = try loadFile(flag: flag, environment: environment, home: home)
        let named: (path: String, by: String)?
        if let inventory {
            named = (inventory, "--inventory")
        } else if let variable = environment["BPFLEET_INVENTORY"], !variable.isEmpty {
            named = (variable, "$BPFLEET_INVENTORY")
        } else if let config, let key = config.inventory {
            named = (key.value, "config \(config.file) line \(key.line)")
        } else {
            named = nil
        }
        if let named {
            var merged = config ?? ClientConfig(file: "")
            try merged.add(Inventory.load(named.path, namedBy: named.by, home: home))
            config = merged
        }
        try config?.checkDefaultNodes()
        return config
    }

    /// The config file alone; nil when an optional file is not there.
    private static func loadFile(flag: String?, environment: [String: String], home: String?) throws(ConfigError) -> ClientConfig? {
        guard let (path, required) = path(flag: flag, environment: environment) else { return nil }
        if !required, !FileManager.default.fileExists(atPath: path) { return nil }
        let text: String
        switch TextFile.read(path) {
        case .success(let read): text = read
        case .failure(let reason): throw ConfigError(file: path, line: nil, "cannot read it: \(reason.text)")
        }
        return try ClientConfig(yaml: text, file: path, home: home)
    }

    private static func homeDirectory() -> String? {
        let home = NSHomeDirectory()
        return home.isEmpty ? nil : home
    }
}
