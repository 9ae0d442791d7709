import Foundation
import TestSupport

/// A real Prometheus server (Debian's `prometheus`), on a free loopback
/// port with a temporary config and data directory, scraping the targets
/// it is given every second; stopped and its directory removed by `stop`.
final class PrometheusServer {
    let port: UInt16
    let directory: String
    private let process: Process

    static var executable: String? {
        ["/usr/bin/prometheus", "/usr/local/bin/prometheus"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Scrapes `http://TARGET/metrics` for each target (`127.0.0.1:PORT`).
    init(scraping targets: [String]) throws {
        guard let executable = Self.executable else { throw TestFailure("prometheus is not installed (scripts/setup.sh installs it)") }
        directory = NSTemporaryDirectory() + "bpfleet-prometheus-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: directory + "/data", withIntermediateDirectories: true)
        let config = """
            global:
              scrape_interval: 1s
              scrape_timeout: 1s
            scrape_configs:
              - job_name: bpfleet
                static_configs:
                  - targets: [\(targets.map { "\"\($0)\"" }.joined(separator: ", "))]

            """
        try config.write(toFile: directory + "/prometheus.yml", atomically: true, encoding: .utf8)
        var started: (Process, UInt16)?
        for _ in 0..<5 where started == nil {
            let port = UInt16.random(in: 40_001...60_000)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = ["--config.file=\(directory)/prometheus.yml", "--storage.tsdb.path=\(directory)/data",
                                 "--web.listen-address=127.0.0.1:\(port)", "--log.level=warn"]
            let log = FileManager.default.createFile(atPath: directory + "/prometheus.log", contents: nil)
                ? FileHandle(forWritingAtPath: directory + "/prometheus.log") : nil
            process.standardOutput = log
            process.standardError = log
            try process.run()
            // Ready, or gone (the port was taken): up to a minute on a
            // loaded machine; a bound on waiting, not a measure.
            for _ in 0..<600 {
                if !process.isRunning { break }
                if (try? Self.get(port: port, path: "/-/ready"))?.hasPrefix("Prometheus Server is Ready") == true {
                    started = (process, port)
                    break
                }
                usleep(100_000)
            }
            if started == nil, process.isRunning {
                process.terminate()
                process.waitUntilExit()
            }
        }
        guard let (process, port) = started else {
            let log = (try? String(contentsOfFile: directory + "/prometheus.log", encoding: .utf8)) ?? ""
            try? FileManager.default.removeItem(atPath: directory)
            throw TestFailure("prometheus did not start: \(log.suffix(2000))")
        }
        self.process = process
        self.port = port
    }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// An instant query's samples: each series' labels (without
    /// `__name__`, `instance` and `job`, which Prometheus adds) and value.
    func query(_ expression: String) throws -> [(labels: [String: String], value: String)] {
        var components = URLComponents()
        components.queryItems = [URLQueryItem(name: "query", value: expression)]
        let encoded = (components.percentEncodedQuery ?? "").replacingOccurrences(of: "+", with: "%2B")
        let body = try Self.get(port: port, path: "/api/v1/query?\(encoded)")
        guard let json = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any],
              json["status"] as? String == "success",
              let data = json["data"] as? [String: Any], let result = data["result"] as? [[String: Any]] else {
            throw TestFailure("prometheus answered \(body.prefix(500))")
        }
        return result.compactMap { sample in
            guard var labels = sample["metric"] as? [String: String], let value = (sample["value"] as? [Any])?.last as? String else { return nil }
            for added in ["__name__", "instance", "job"] { labels[added] = nil }
            return (labels, value)
        }
    }

    /// Queries until `done` holds for the answer; the last answer. Gives up
    /// after two minutes (a bound on waiting for scrapes, not a measure).
    @discardableResult
    func waitFor(_ expression: String, _ done: ([(labels: [String: String], value: String)]) -> Bool) throws -> [(labels: [String: String], value: String)] {
        var last: [(labels: [String: String], value: String)] = []
        for _ in 0..<1200 {
            last = try query(expression)
            if done(last) { return last }
            usleep(100_000)
        }
        return last
    }

    /// The series Prometheus scraped from its targets last: `up` per target.
    func targetsUp() throws -> [String] {
        try query("up == 1").compactMap { $0.labels["instance"] }
    }

    /// A plain HTTP/1.1 GET on loopback; the body.
    static func get(port: UInt16, path: String) throws -> String {
        let fd = try loopbackConnection(port: port)
        defer { close(fd) }
        let request = Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8)
        guard request.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) == request.count else { throw TestFailure("write failed") }
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { break }
            received += chunk[0..<count]
        }
        let text = String(decoding: received, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n") else { throw TestFailure("no HTTP answer from 127.0.0.1:\(port)") }
        let head = text[..<split.lowerBound]
        var body = String(text[split.upperBound...])
        if head.lowercased().contains("transfer-encoding: chunked") { body = dechunk(body) }
        return body
    }

    static func dechunk(_ text: String) -> String {
        var out = ""
        var rest = Substring(text)
        while let line = rest.range(of: "\r\n") {
            guard let size = Int(rest[..<line.lowerBound].split(separator: ";").first ?? "", radix: 16), size > 0 else { break }
            let start = line.upperBound
            let bytes = rest[start...].utf8.prefix(size)
            out += String(decoding: bytes, as: UTF8.self)
            rest = rest[rest.utf8.index(start, offsetBy: bytes.count)...].dropFirst(2)
        }
        return out
    }
}
