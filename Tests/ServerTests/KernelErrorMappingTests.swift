@testable import BpfleetServer
import BpfleetShared
import Glibc
import Testing

/// Each KernelError case as the wire says it: the code, message and data a
/// client saw before the kernel layer had errors of its own.
@Suite("KernelError mapping")
struct KernelErrorMappingTests {
    @Test func verifierRejectionNamesTheProgramAndTheLastLinesOfTheLog() {
        let log = "0: R1=ctx() R10=fp0\n1: (b7) r0 = 0\nR0 !read_ok\nprocessed 2 insns (limit 1000000)\nverification time 12 usec\n"
        let error = ResponseError(KernelError.verifierRejected(program: "count_exec", log: log, errno: EACCES, truncated: false))
        #expect(error.code == .verifierRejected)
        #expect(error.code.rawValue == -32006)
        #expect(error.message == "the verifier rejected program 'count_exec': 1: (b7) r0 = 0; R0 !read_ok")
        #expect(error.data == ["program": "count_exec", "log": .string(log), "errno": .int(Int64(EACCES)), "errnoName": "EACCES"])
    }

    @Test func aTruncatedVerifierLogIsOnTheWireAsBefore() {
        let error = ResponseError(KernelError.verifierRejected(program: "p", log: "a\nb\nc", errno: ENOSPC, truncated: true))
        #expect(error.code == .verifierRejected)
        #expect(error.message == "the verifier rejected program 'p': b; c")
        #expect(error.data == ["program": "p", "log": "a\nb\nc", "errno": .int(Int64(ENOSPC)), "errnoName": "ENOSPC"])
    }

    @Test func aLoadRefusedForPermissionNamesTheCapabilities() {
        for code in [EPERM, EACCES] {
            let error = ResponseError(KernelError.loadFailed(errno: code, libbpf: "prog 'x': failed to load"))
            #expect(error.code == .kernelError)
            #expect(error.code.rawValue == -32010)
            #expect(error.message == "the kernel refused the load: \(String(cString: strerror(code))) (\(LeastPrivilege.loadingNeeds))")
            #expect(error.message.contains("loading needs CAP_BPF, and CAP_PERFMON for tracing programs, CAP_NET_ADMIN for XDP, tc and other network programs"))
            #expect(error.data == ["errno": .int(Int64(code)), "errnoName": .string(errnoName(code)), "operation": "load",
                                   "libbpf": "prog 'x': failed to load"])
        }
    }

    @Test func aLoadFailureEndsWithLibbpfsLastLine() {
        let error = ResponseError(KernelError.loadFailed(errno: EINVAL, libbpf: "first\nmap 'm': failed to create"))
        #expect(error.code == .kernelError)
        #expect(error.message == "loading the object failed: Invalid argument (EINVAL): map 'm': failed to create")
        #expect(error.data == ["errno": 22, "errnoName": "EINVAL", "operation": "load", "libbpf": "first\nmap 'm': failed to create"])
        let bare = ResponseError(KernelError.loadFailed(errno: E2BIG, libbpf: ""))
        #expect(bare.message == "loading the object failed: Argument list too long (E2BIG)")
        #expect(bare.data == ["errno": 7, "errnoName": "E2BIG", "operation": "load", "libbpf": ""])
    }

    @Test func aMapTheKernelWouldNotCreateIsNamedWithWhy() {
        let error = ResponseError(KernelError.mapCreateFailed(map: "pids", errno: E2BIG, libbpf: "map 'pids': failed to create"))
        #expect(error.code == .kernelError)
        #expect(error.message == "the kernel could not create map 'pids': Argument list too long (E2BIG): it is too large for the kernel (set a smaller size: probe.load's maps)")
        #expect(error.data == ["map": "pids", "errno": 7, "errnoName": "E2BIG", "operation": "create map", "libbpf": "map 'pids': failed to create"])
        let refused = ResponseError(KernelError.mapCreateFailed(map: "m", errno: EINVAL, libbpf: ""))
        #expect(refused.message == "the kernel could not create map 'm': Invalid argument (EINVAL): the kernel refused its type, sizes or flags")
        let other = ResponseError(KernelError.mapCreateFailed(map: "m", errno: EBADF, libbpf: ""))
        #expect(other.message == "the kernel could not create map 'm': Bad file descriptor (EBADF)")
    }

    @Test func aProgramRefusedBeforeVerificationIsNamed() {
        let error = ResponseError(KernelError.programRefused(program: "walk", section: "iter/bpf_map_elem", errno: EPERM, libbpf: "m"))
        #expect(error.code == .kernelError)
        #expect(error.message == "the kernel refused program 'walk' (section 'iter/bpf_map_elem') before verifying it: Operation not permitted (EPERM): this kernel does not allow this program type or attach point")
        #expect(error.data == ["program": "walk", "section": "iter/bpf_map_elem", "errno": 1, "errnoName": "EPERM", "operation": "load", "libbpf": "m"])
        let other = ResponseError(KernelError.programRefused(program: "p", section: "s", errno: EINVAL, libbpf: ""))
        #expect(other.message == "the kernel refused program 'p' (section 's') before verifying it: Invalid argument (EINVAL)")
    }

    @Test func aMissingAttachTargetIsUnsupportedNamingIt() {
        let error = ResponseError(KernelError.missingAttachTarget(program: "p", section: "fentry/nope", target: "nope", libbpf: "x"))
        #expect(error.code == .unsupported)
        #expect(error.message == "program 'p' (section 'fentry/nope') attaches to 'nope', which this kernel does not have (not in its BTF)")
        #expect(error.data == ["feature": "nope", "program": "p", "section": "fentry/nope", "libbpf": "x"])
    }

    @Test func unsupportedNamesTheFeature() {
        let error = ResponseError(KernelError.unsupported(feature: "kprobe PMU", message: "this kernel has no kprobe perf event source"))
        #expect(error.code == .unsupported)
        #expect(error.code.rawValue == -32008)
        #expect(error.message == "this kernel has no kprobe perf event source")
        #expect(error.data == ["feature": "kprobe PMU"])
    }

    @Test func aFailedCallNamesTheOperationAndTheErrno() {
        let error = ResponseError(KernelError.failed(operation: "pin link at /sys/fs/bpf/x/links/1", errno: EEXIST))
        #expect(error.code == .kernelError)
        #expect(error.message == "pin link at /sys/fs/bpf/x/links/1 failed: File exists (EEXIST)")
        #expect(error.data == ["errno": 17, "errnoName": "EEXIST", "operation": "pin link at /sys/fs/bpf/x/links/1"])
        #expect(ResponseError.kernel("map lookup", errno: ENOMEM) == ResponseError(KernelError.failed(operation: "map lookup", errno: ENOMEM)))
    }

    @Test func anInvalidObjectCarriesLibbpfsMessagesWhenThereAreAny() {
        let error = ResponseError(KernelError.invalidObject(message: "not a valid BPF ELF object (EINVAL)", libbpf: "elf: x\nfailed to open"))
        #expect(error.code == .invalidObject)
        #expect(error.code.rawValue == -32005)
        #expect(error.message == "not a valid BPF ELF object (EINVAL): failed to open")
        #expect(error.data == ["libbpf": "elf: x\nfailed to open"])
        let bare = ResponseError(KernelError.invalidObject(message: "empty object", libbpf: ""))
        #expect(bare.message == "empty object")
        #expect(bare.data == .object([:]))
    }

    @Test func anAttachFailureSaysWhyAndCarriesTheTarget() {
        let tracepoint = AttachTarget.tracepoint(category: "sched", name: "nope")
        let missing = ResponseError(KernelError.attachFailed(program: "p", section: "tp/sched/nope", target: tracepoint, errno: ENOENT,
                                                             libbpf: "", reason: nil))
        #expect(missing.code == .attachFailed)
        #expect(missing.code.rawValue == -32007)
        #expect(missing.message == "tracepoint sched/nope does not exist on this kernel")
        #expect(missing.data == ["errno": 2, "errnoName": "ENOENT",
                                 "target": ["type": "tracepoint", "category": "sched", "name": "nope"]])

        let raw = ResponseError(KernelError.attachFailed(program: "p", section: "raw_tp/x", target: .rawTracepoint(name: "x"), errno: ENOENT,
                                                         libbpf: "libbpf says", reason: nil))
        #expect(raw.message == "raw tracepoint x does not exist on this kernel")
        #expect(raw.data == ["errno": 2, "errnoName": "ENOENT", "target": ["type": "raw_tracepoint", "name": "x"], "libbpf": "libbpf says"])

        for code in [EOPNOTSUPP, ESRCH] {
            let auto = ResponseError(KernelError.attachFailed(program: "p", section: "lsm/file_open", target: .auto, errno: code, libbpf: "",
                                                              reason: nil))
            #expect(auto.message == "section 'lsm/file_open' of program 'p' does not name a target; give one")
        }

        let xdp = AttachTarget.xdp(interface: "lo", mode: nil)
        let generic = ResponseError(KernelError.attachFailed(program: "p", section: "xdp", target: xdp, errno: EINVAL, libbpf: "", reason: nil))
        #expect(generic.message == "attaching 'p' to xdp:lo failed: Invalid argument (EINVAL)")
        #expect(generic.data == ["errno": 22, "errnoName": "EINVAL", "target": ["type": "xdp", "interface": "lo"]])

        let told = ResponseError(KernelError.attachFailed(program: "p", section: "xdp", target: xdp, errno: EBUSY, libbpf: "",
                                                          reason: "interface lo already has an XDP program attached"))
        #expect(told.code == .attachFailed)
        #expect(told.message == "interface lo already has an XDP program attached")
        #expect(told.data == ["errno": 16, "errnoName": "EBUSY", "target": ["type": "xdp", "interface": "lo"]])
    }

    @Test func anInvalidArgumentIsAParameterError() {
        let field = ResponseError(KernelError.invalidField("target.mode: 'x' is not an XDP mode (native, generic or auto)", field: "target.mode"))
        #expect(field.code == .invalidParams)
        #expect(field.code.rawValue == -32602)
        #expect(field.message == "target.mode: 'x' is not an XDP mode (native, generic or auto)")
        #expect(field.data == ["field": "target.mode"])
        #expect(field == .invalidParams("target.mode: 'x' is not an XDP mode (native, generic or auto)", field: "target.mode"))

        let detailed = ResponseError(KernelError.invalidArgument(message: "target.pid: no process 7 on this node",
                                                                 data: ["field": "target.pid", "pid": 7]))
        #expect(detailed.code == .invalidParams)
        #expect(detailed.data == ["field": "target.pid", "pid": 7])

        let bare = ResponseError(KernelError.invalidArgument(message: "entries of an array map cannot be deleted; update them instead"))
        #expect(bare.code == .invalidParams)
        #expect(bare.data == nil)
    }

    @Test func aLimitNamesItselfAndItsValue() {
        let error = ResponseError(KernelError.limitExceeded(limit: "maxEntries", value: 16, message: "the map is full (16 entries)"))
        #expect(error.code == .limitExceeded)
        #expect(error.code.rawValue == -32009)
        #expect(error.message == "the map is full (16 entries)")
        #expect(error.data == ["limit": "maxEntries", "value": 16])
    }

    @Test func mapEntriesThatExistOrDoNot() {
        let exists = ResponseError(KernelError.entryExists(message: "the key exists (flags: noexist)"))
        #expect(exists.code == .conflict)
        #expect(exists.code.rawValue == -32004)
        #expect(exists.message == "the key exists (flags: noexist)")
        #expect(exists.data == ["errnoName": "EEXIST"])

        let missing = ResponseError(KernelError.entryMissing(message: "no entry with that key"))
        #expect(missing.code == .notFound)
        #expect(missing.code.rawValue == -32003)
        #expect(missing.message == "no entry with that key")
        #expect(missing.data == ["errnoName": "ENOENT"])
    }

    @Test func theErrnoOfEachCase() {
        #expect(KernelError.failed(operation: "x", errno: EPERM).errno == EPERM)
        #expect(KernelError.loadFailed(errno: EINVAL, libbpf: "").errno == EINVAL)
        #expect(KernelError.verifierRejected(program: "p", log: "", errno: EACCES, truncated: false).errno == EACCES)
        #expect(KernelError.attachFailed(program: "p", section: "s", target: .auto, errno: ENOENT, libbpf: "", reason: nil).errno == ENOENT)
        #expect(KernelError.unsupported(feature: "f", message: "m").errno == nil)
    }
}
