"""The checks of the files under deploy/ that need nothing but Python and
PyYAML (scripts/check_deploy.py runs them): 1. YAML that parses, 2.
bpfleetd flags that bpfleetd has, 3. roles files with known keys and
groups, 4. pieces that agree with each other. Each problem is one line in
`problems`."""
from __future__ import annotations

import glob
import os
import re
import shlex
import subprocess
import sys
from typing import Iterator

problems: list[str] = []


def problem(text: str) -> None:
    problems.append(text)


def say(text: str) -> None:
    print(f"check-deploy: {text}", flush=True)


def complain(text: str) -> None:
    print(f"check-deploy: {text}", file=sys.stderr, flush=True)


# --- 2. bpfleetd's flags: from a built binary's --help when the build is newer
# than the flag declarations, else from the sources ---------------------------

def kebab(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"-\1", name).lower()


def known_flags() -> tuple[set[str], str]:
    binary = os.environ.get("BPFLEETD") or ".build/debug/bpfleetd"
    if os.access(binary, os.X_OK):
        sources = glob.glob("Sources/bpfleetd/*.swift")
        newest = max((os.stat(path).st_mtime for path in sources), default=None)
        if os.environ.get("BPFLEETD") or newest is None or os.stat(binary).st_mtime > newest:
            done = subprocess.run([binary, "--help"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            if done.returncode != 0:
                complain(f"{binary} --help failed:")
                sys.stderr.write(done.stdout)
                sys.exit(1)
            return set(re.findall(r"(?m)^\s+(?:-\w, )?--([a-z0-9][a-z0-9-]*)", done.stdout)), f"{binary} --help"
    known = {"help", "version"}
    for path in sorted(glob.glob("Sources/bpfleetd/*.swift")):
        with open(path) as f:
            source = f.read()
        for attributes, var in re.findall(r"@(?:Option|Flag)\((.*?)\)\s*var\s+(\w+)", source, re.S):
            custom = re.search(r'\.customLong\("([^"]+)"', attributes)
            known.add(custom.group(1) if custom else kebab(var))
    return known, "the @Option/@Flag declarations in Sources/bpfleetd"


def flags_in(words: list[str]) -> list[str]:
    return [w[2:].split("=", 1)[0] for w in words if w.startswith("--") and len(w) > 2]


def option_values(words: list[str], flag: str) -> list[str]:
    values = []
    for i, w in enumerate(words):
        if w == f"--{flag}" and i + 1 < len(words):
            values.append(words[i + 1])
        elif w.startswith(f"--{flag}="):
            values.append(w.split("=", 1)[1])
    return values


class Deploy:
    """The files under deploy/ and what is known of bpfleetd."""

    def __init__(self, yaml_module) -> None:
        self.yaml = yaml_module
        self.known, self.flag_source = known_flags()
        self.documents = self._parse()
        self.objects = [(path, d) for path, docs in self.documents.items() for d in docs if isinstance(d, dict) and "kind" in d]
        say(f"bpfleetd's flags from {self.flag_source}: {len(self.known)}")
        if len(self.known) < 5:
            problem(f"found only {sorted(self.known)} as bpfleetd's flags in {self.flag_source}: the check cannot work")
        self.unit_sockets: dict[str, list] = {}

    def _parse(self) -> dict[str, list]:
        """1. every YAML file parses."""
        documents = {}
        yaml_files = sorted(glob.glob("deploy/**/*.yaml", recursive=True) + glob.glob("deploy/**/*.yml", recursive=True))
        if not yaml_files:
            problem("no YAML files under deploy/")
        for path in yaml_files:
            try:
                with open(path) as f:
                    documents[path] = [d for d in self.yaml.safe_load_all(f) if d is not None]
            except self.yaml.YAMLError as error:
                problem(f"{path}: not valid YAML: {error}".replace("\n", " "))
        say(f"{len(documents)} of {len(yaml_files)} YAML files parse")
        return documents

    def check_flags(self, where: str, words: list[str]) -> list[str]:
        used = flags_in(words)
        for flag in used:
            if flag not in self.known:
                problem(f"{where}: bpfleetd has no flag --{flag} (flags from {self.flag_source})")
        return used

    def check_units(self) -> None:
        """2 and 4 for systemd: ExecStart with continuations joined; $VAR and
        ${VAR} expanded from the environment files next to it."""
        env_values = {}
        for path in sorted(glob.glob("deploy/systemd/*.env")):
            with open(path) as f:
                for number, line in enumerate(f, 1):
                    line = line.strip()
                    if not line or line.startswith("#"):
                        continue
                    if "=" not in line:
                        problem(f"{path}:{number}: not NAME=VALUE: {line}")
                        continue
                    name, value = line.split("=", 1)
                    env_values[name.strip()] = (path, value.strip().strip('"'))
        units = sorted(glob.glob("deploy/systemd/*.service"))
        if not units:
            problem("no systemd unit under deploy/systemd")
        for unit in units:
            self._check_unit(unit, env_values)

    def _check_unit(self, unit: str, env_values: dict[str, tuple[str, str]]) -> None:
        with open(unit) as f:
            text = f.read().replace("\\\n", " ")
        starts = [line.split("=", 1)[1] for line in text.splitlines() if line.startswith("ExecStart=")]
        if len(starts) != 1:
            problem(f"{unit}: {len(starts)} ExecStart= lines, expected 1")
            return
        words = shlex.split(starts[0])
        program = words[0].lstrip("+-@:!")
        if os.path.basename(program) != "bpfleetd":
            problem(f"{unit}: ExecStart runs {program}, not bpfleetd")
        expanded: list[str] = []
        for w in words[1:]:
            m = re.fullmatch(r"\$\{?(\w+)\}?", w)
            if m:
                if m.group(1) not in env_values:
                    problem(f"{unit}: ExecStart uses ${m.group(1)}, which no deploy/systemd/*.env sets")
                    continue
                env_path, value = env_values[m.group(1)]
                expanded += value.split()
                self.check_flags(f"{env_path} ({m.group(1)})", value.split())
            else:
                expanded.append(w)
                self.check_flags(f"{unit} (ExecStart)", [w])
        say(f"{unit}: ExecStart flags {' '.join('--' + f for f in flags_in(expanded))}")
        sockets = [v[len("unix:"):] for v in option_values(expanded, "listen") if v.startswith("unix:")]
        self.unit_sockets[unit] = sockets
        # The unit counts as started when the socket exists: it must be bpfleetd's.
        for waited in re.findall(r"-S\s+(\S+?)['\s\]]", text):
            if waited not in sockets:
                problem(f"{unit}: ExecStartPost waits for {waited}, but bpfleetd listens on {sockets or 'no Unix socket'}")
        for group in option_values(expanded, "socket-group"):
            self.unit_sockets.setdefault("groups", []).append((unit, group))

    def check_containers(self) -> None:
        """2 and 4 for Kubernetes: containers that run bpfleetd (command
        bpfleetd, or no command in an image of bpfleet: the image's
        entrypoint is bpfleetd)."""
        by_name = {(o.get("kind"), (o.get("metadata") or {}).get("name")): (p, o) for p, o in self.objects}
        daemon_containers = 0
        for path, obj in self.objects:
            for spec in pod_specs(obj):
                volumes = {v.get("name"): v for v in spec.get("volumes") or []}
                for container in (spec.get("initContainers") or []) + (spec.get("containers") or []):
                    command = container.get("command") or []
                    runs = os.path.basename(command[0]) if command else ("bpfleetd" if "bpfleet" in str(container.get("image")) else "")
                    if runs != "bpfleetd":
                        continue
                    daemon_containers += 1
                    self._check_container(f"{path}: {obj['kind']} {obj['metadata'].get('name')}, container {container.get('name')}",
                                          container, volumes, by_name)
        if daemon_containers == 0:
            problem("no Kubernetes container under deploy/kubernetes runs bpfleetd")

    def _check_container(self, where: str, container: dict, volumes: dict, by_name: dict) -> None:
        words = [str(w) for w in (container.get("command") or [])[1:] + (container.get("args") or [])]
        used = self.check_flags(where, words)
        say(f"{where}: flags {' '.join('--' + f for f in used)}")
        # Every file and directory bpfleetd is given lives in a volume.
        mounts = container.get("volumeMounts") or []
        paths = [(f, v) for f in ("tls-cert", "tls-key", "client-ca", "roles", "state-dir", "pin-root", "audit-log")
                 for v in option_values(words, f)]
        sockets = [v[len("unix:"):] for v in option_values(words, "listen") if v.startswith("unix:")]
        paths += [("listen", s) for s in sockets]
        for flag, value in paths:
            mount = max((m for m in mounts if value == m["mountPath"] or value.startswith(m["mountPath"].rstrip("/") + "/")),
                        key=lambda m: len(m["mountPath"]), default=None)
            if mount is None:
                problem(f"{where}: --{flag} {value} is in no volumeMount (the root filesystem is the image's)")
                continue
            volume = volumes.get(mount["name"])
            if volume is None:
                problem(f"{where}: volumeMount {mount['name']} names no volume")
                continue
            rest = value[len(mount["mountPath"].rstrip("/")) + 1:]
            for kind, key, name_key in (("Secret", "secret", "secretName"), ("ConfigMap", "configMap", "name")):
                if key in volume and rest:
                    name = volume[key].get(name_key)
                    found = by_name.get((kind, name))
                    if found is None:
                        say(f"note: {kind} {name} is not under deploy/kubernetes; --{flag} {value} not checked against its keys")
                        continue
                    _, source = found
                    keys = set((source.get("data") or {}).keys()) | set((source.get("stringData") or {}).keys())
                    if rest not in keys:
                        problem(f"{where}: --{flag} {value}: {kind} {name} has no key {rest} (it has {', '.join(sorted(keys))})")
        self._check_probes(where, container, words, sockets)
        self._check_privileges(where, container)

    @staticmethod
    def _check_privileges(where: str, container: dict) -> None:
        """4. Least privilege: not a privileged container, every capability
        dropped but bpfleetd's documented set, which the systemd unit's
        bounding set is too; no Bidirectional mount (privileged only)."""
        documented = documented_capabilities()
        if not documented:
            problem("cannot find bpfleetd's capabilities in Sources/Server/Privileges/LeastPrivilege.swift (LeastPrivilege.server)")
            return
        context = container.get("securityContext") or {}
        if context.get("privileged"):
            problem(f"{where}: privileged: true, but bpfleetd needs only {' '.join(sorted(documented))}")
        capabilities = context.get("capabilities") or {}
        if capabilities.get("drop") != ["ALL"]:
            problem(f"{where}: capabilities.drop is {capabilities.get('drop')}, expected [ALL]")
        added = {str(c).removeprefix("CAP_") for c in capabilities.get("add") or []}
        if added != documented:
            problem(f"{where}: capabilities.add is {' '.join(sorted(added))}, but bpfleetd keeps {' '.join(sorted(documented))}")
        for mount in container.get("volumeMounts") or []:
            if mount.get("mountPropagation") == "Bidirectional" and not context.get("privileged"):
                problem(f"{where}: volumeMount {mount.get('name')} is Bidirectional, which only a privileged container may have")
        for unit in sorted(glob.glob("deploy/systemd/*.service")):
            bounding = unit_bounding_set(unit)
            if bounding is not None and bounding != documented:
                problem(f"{unit}: CapabilityBoundingSet is {' '.join(sorted(bounding))}, but bpfleetd keeps {' '.join(sorted(documented))}")
        say(f"{where}: capabilities {' '.join(sorted(added))}, the unit's bounding set and bpfleetd's agree")

    @staticmethod
    def _check_probes(where: str, container: dict, words: list[str], sockets: list[str]) -> None:
        """The readiness/liveness exec must dial bpfleetd's socket."""
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            execute = ((container.get(probe) or {}).get("exec") or {}).get("command") or []
            for i, w in enumerate(execute):
                if w in ("-n", "--node") and i + 1 < len(execute) and execute[i + 1].startswith("unix:"):
                    if execute[i + 1][len("unix:"):] not in sockets:
                        problem(f"{where}: {probe} dials {execute[i + 1]}, but bpfleetd listens on {sockets}")
            port = ((container.get(probe) or {}).get("tcpSocket") or {}).get("port")
            if port is not None:
                declared = {p.get("name"): p.get("containerPort") for p in container.get("ports") or []}
                number = declared.get(port, port)
                tcp = [v for v in option_values(words, "listen") if v.startswith("tcp://")]
                if number not in declared.values() or not any(v.endswith(f":{number}") for v in tcp):
                    problem(f"{where}: {probe} checks port {port}, which is not a declared port bpfleetd listens on "
                            f"({', '.join(tcp) or 'no tcp:// listener'})")

    def check_roles_files(self) -> None:
        """3. roles files."""
        with open("Sources/Server/Access/RoleBook.swift") as f:
            rolebook = f.read()

        def struct_keys(name: str) -> set[str]:
            body = re.search(r"struct " + name + r"\b[^{]*\{(.*?)\n    \}", rolebook, re.S)
            return set(re.findall(r"\bvar (\w+)\s*:", body.group(1))) if body else set()

        roles = Roles(struct_keys("File"), struct_keys("Grants"), sysusers_groups())
        if not roles.file_keys or not roles.grant_keys:
            problem("cannot find the roles file's keys in Sources/Server/Access/RoleBook.swift (struct File, struct Grants)")
        checked = 0
        for path in sorted(glob.glob("deploy/systemd/*.yaml")):
            for doc in self.documents.get(path, []):
                roles.check(path, doc, names_allowed=True)
                checked += 1
        for path, obj in self.objects:
            if obj.get("kind") == "ConfigMap":
                for key, value in (obj.get("data") or {}).items():
                    if key.endswith((".yaml", ".yml")) and "roles" in key:
                        try:
                            roles.check(f"{path}: data.{key}", self.yaml.safe_load(value), names_allowed=False)
                            checked += 1
                        except self.yaml.YAMLError as error:
                            problem(f"{path}: data.{key}: not valid YAML: {error}".replace("\n", " "))
        for unit, group in self.unit_sockets.get("groups", []):
            if group not in roles.sysusers_groups and not group.isdigit():
                problem(f"{unit}: --socket-group {group} is not made by deploy/systemd/*.sysusers")
        say(f"{checked} roles files use known keys")


def documented_capabilities() -> set[str]:
    """The capabilities bpfleetd keeps (LeastPrivilege.server), as
    Kubernetes names them: NET_ADMIN for `.netAdmin`."""
    with open("Sources/Server/Privileges/LeastPrivilege.swift") as f:
        source = f.read()
    body = re.search(r"static let server: \[Need\] = \[(.*?)\n    \]", source, re.S)
    names = re.findall(r"Need\(capability: \.(\w+)", body.group(1)) if body else []
    return {kebab(name).replace("-", "_").upper() for name in names}


def unit_bounding_set(unit: str) -> set[str] | None:
    with open(unit) as f:
        lines = [line.split("=", 1)[1] for line in f.read().splitlines() if line.startswith("CapabilityBoundingSet=")]
    return {word.removeprefix("CAP_") for line in lines for word in line.split()} if lines else None


def pod_specs(obj: dict) -> Iterator[dict]:
    spec = obj.get("spec") or {}
    if obj.get("kind") == "Pod":
        yield spec
    template = (spec.get("template") or {}).get("spec")
    if template:
        yield template
    job = ((spec.get("jobTemplate") or {}).get("spec") or {}).get("template", {}).get("spec")
    if job:
        yield job


def sysusers_groups() -> set[str]:
    groups = set()
    for path in glob.glob("deploy/systemd/*.sysusers"):
        with open(path) as f:
            for line in f:
                fields = line.split()
                if fields and fields[0] in ("g", "u") and len(fields) > 1:
                    groups.add(fields[1])
    return groups


class Roles:
    """The keys a roles file may use, and the groups the sysusers file makes."""

    def __init__(self, file_keys: set[str], grant_keys: set[str], groups: set[str]) -> None:
        self.file_keys, self.grant_keys, self.sysusers_groups = file_keys, grant_keys, groups

    def check(self, where: str, roles: object, names_allowed: bool) -> None:
        if not isinstance(roles, dict):
            problem(f"{where}: a roles file is a mapping (operators:, viewers:, root:, plaintext:)")
            return
        for key, value in roles.items():
            if key not in self.file_keys:
                problem(f"{where}: unknown key '{key}' (bpfleetd ignores it; known: {', '.join(sorted(self.file_keys))})")
            elif key in ("operators", "viewers"):
                for grant, names in (value or {}).items():
                    self._check_grant(where, key, grant, names, names_allowed)
            elif key in ("root", "plaintext") and value not in ("operator", "viewer", "none"):
                problem(f"{where}: {key} must be operator, viewer or none, not {value!r}")

    def _check_grant(self, where: str, key: str, grant: str, names: object, names_allowed: bool) -> None:
        if grant not in self.grant_keys:
            problem(f"{where}: unknown key '{key}.{grant}' (bpfleetd ignores it; known: {', '.join(sorted(self.grant_keys))})")
        elif grant in ("users", "groups") and not names_allowed:
            problem(f"{where}: {key}.{grant} names {names}: in a container those are looked up in the image, not the node; use uids/gids")
        elif grant == "groups" and names_allowed:
            for group in names or []:
                if group not in self.sysusers_groups:
                    problem(f"{where}: group '{group}' is not made by deploy/systemd/*.sysusers (bpfleetd refuses to start without it)")
