import Foundation

/// The BPF programs and maps that processes hold descriptors of, read from
/// /proc the way bpftool's `pids` column is made: each `anon_inode:bpf-*`
/// descriptor's fdinfo names its object (`prog_id`, `map_id`; a link's
/// names the program it holds).
enum BPFDescriptors {
    /// What `pids` and every process they started (their descendants) hold.
    static func ids(heldBy pids: [Int32]) -> (prog: Set<UInt32>, map: Set<UInt32>) {
        var programs: Set<UInt32> = []
        var maps: Set<UInt32> = []
        for pid in descendants(of: pids) {
            let directory = "/proc/\(pid)/fdinfo"
            for fd in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] {
                guard let info = try? String(contentsOfFile: directory + "/" + fd, encoding: .utf8) else { continue }
                for line in info.split(separator: "\n") {
                    let parts = line.split(separator: ":", maxSplits: 1)
                    guard parts.count == 2, let id = UInt32(parts[1].trimmingCharacters(in: .whitespaces)) else { continue }
                    if parts[0] == "prog_id" { programs.insert(id) }
                    if parts[0] == "map_id" { maps.insert(id) }
                }
            }
        }
        return (programs, maps)
    }

    /// `pids` and their descendants, through each thread's `children` list.
    static func descendants(of pids: [Int32]) -> Set<Int32> {
        var seen = Set(pids)
        var queue = pids
        while let pid = queue.popLast() {
            let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
            for task in tasks {
                let children = (try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/children", encoding: .utf8)) ?? ""
                for child in children.split(separator: " ").compactMap({ Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) })
                where seen.insert(child).inserted {
                    queue.append(child)
                }
            }
        }
        return seen
    }
}
