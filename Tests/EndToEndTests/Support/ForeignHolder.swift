import Foundation
import TestSupport

/// A program, map and link made by something other than bpfleetd: a small
/// libbpf C program, compiled with cc, loads `foreign_counter.bpf.o`,
/// attaches its tracepoint program, writes five entries into its map
/// (key K: hits K*100, tag K+7), prints the three kernel ids, and holds
/// them until its standard input closes.
final class ForeignHolder: @unchecked Sendable {
    let process: Process
    let directory: String
    private let input: Pipe
    let programID: UInt32
    let mapID: UInt32
    let linkID: UInt32
    var pid: Int32 { process.processIdentifier }
    static let comm = "foreign_holder"

    static let source = """
        #include <bpf/bpf.h>
        #include <bpf/libbpf.h>
        #include <stdio.h>
        #include <unistd.h>

        struct foreign_value { unsigned long long hits; unsigned int tag; unsigned int pad; };

        int main(int argc, char **argv)
        {
            if (argc < 2) return 1;
            struct bpf_object *obj = bpf_object__open_file(argv[1], NULL);
            if (libbpf_get_error(obj) || bpf_object__load(obj)) return 2;
            struct bpf_program *prog = bpf_object__find_program_by_name(obj, "count_getppid");
            struct bpf_map *map = bpf_object__find_map_by_name(obj, "foreign_counts");
            if (!prog || !map) return 3;
            struct bpf_link *link = bpf_program__attach(prog);
            if (libbpf_get_error(link)) return 4;
            for (unsigned int key = 1; key <= 5; key++) {
                struct foreign_value value = { key * 100ULL, key + 7, 0 };
                if (bpf_map_update_elem(bpf_map__fd(map), &key, &value, BPF_ANY)) return 5;
            }
            struct bpf_prog_info prog_info = {0};
            struct bpf_map_info map_info = {0};
            struct bpf_link_info link_info = {0};
            __u32 length = sizeof(prog_info);
            if (bpf_obj_get_info_by_fd(bpf_program__fd(prog), &prog_info, &length)) return 6;
            length = sizeof(map_info);
            if (bpf_obj_get_info_by_fd(bpf_map__fd(map), &map_info, &length)) return 6;
            length = sizeof(link_info);
            if (bpf_obj_get_info_by_fd(bpf_link__fd(link), &link_info, &length)) return 6;
            printf("%u %u %u\\n", prog_info.id, map_info.id, link_info.id);
            fflush(stdout);
            char c;
            while (read(0, &c, 1) > 0) {}
            bpf_link__destroy(link);
            bpf_object__close(obj);
            return 0;
        }
        """

    private init(process: Process, directory: String, input: Pipe, ids: [UInt32]) {
        self.process = process
        self.directory = directory
        self.input = input
        programID = ids[0]
        mapID = ids[1]
        linkID = ids[2]
    }

    static func start() throws -> ForeignHolder {
        let directory = try temporaryDirectory("foreign")
        do {
            try source.write(toFile: directory + "/\(comm).c", atomically: true, encoding: .utf8)
            let cc = ["/usr/bin/cc", "/usr/bin/gcc"].first { FileManager.default.isExecutableFile(atPath: $0) } ?? "cc"
            _ = try mustRun(cc, ["-O1", "-o", directory + "/\(comm)", directory + "/\(comm).c", "-lbpf"])
            let process = Process()
            process.executableURL = URL(fileURLWithPath: directory + "/\(comm)")
            process.arguments = [TestEnvironment.programPath("foreign_counter")]
            let input = Pipe(), output = Pipe()
            process.standardInput = input
            process.standardOutput = output
            try process.run()
            // One line, then silence until stdin closes.
            var line = Data()
            while !line.contains(UInt8(ascii: "\n")) {
                let chunk = output.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                line.append(chunk)
            }
            let ids = String(decoding: line, as: UTF8.self).split(whereSeparator: \.isWhitespace).compactMap { UInt32($0) }
            guard ids.count == 3 else {
                try? input.fileHandleForWriting.close()
                process.waitUntilExit()
                throw TestFailure("foreign_holder printed '\(String(decoding: line, as: UTF8.self))' (status \(process.isRunning ? "running" : String(process.terminationStatus)))")
            }
            return ForeignHolder(process: process, directory: directory, input: input, ids: ids)
        } catch {
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
    }

    /// Closes its input: it frees its link, program and map and exits.
    func stop() {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: directory)
    }
}
