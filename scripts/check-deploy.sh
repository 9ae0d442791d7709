#!/usr/bin/env bash
# Checks the deployment files under deploy/ (docs/deploy.md):
#  1. every YAML file parses (and the roles file inside the ConfigMap too);
#  2. every bpfleetd flag in the systemd unit (ExecStart and the variables it
#     takes from deploy/systemd/*.env) and in the Kubernetes containers that
#     run bpfleetd is a flag bpfleetd has: from `bpfleetd --help` of a build
#     newer than Sources/bpfleetd, else from the @Option/@Flag declarations;
#  3. roles files use only keys the server knows (it ignores unknown ones, so
#     a typo would silently grant nothing), name only groups the sysusers
#     file makes (systemd) or no names at all (Kubernetes: the image has no
#     such users or groups);
#  4. the pieces agree: the unit waits for the socket bpfleetd listens on, the
#     DaemonSet's files are under its volume mounts and named as the Secret
#     and ConfigMap keys, its readiness probe dials its socket;
#  5. Kubernetes objects use only field names of the Kubernetes API (the
#     models of python3-kubernetes, when installed) and have their required
#     fields;
#  6. `systemd-analyze verify` accepts each unit without a warning, and
#     `systemd-sysusers` accepts the sysusers file (when those exist).
# Prints what it checked; exits 1 with one line per problem.
#
# Usage: scripts/check-deploy.sh     (BPFLEETD=PATH: take the flags from that binary)
set -euo pipefail
cd "$(dirname "$0")/.."

# A Python with PyYAML; one that also has the Kubernetes models if there is one.
python=""
for candidate in /usr/bin/python3 python3; do
    command -v "$candidate" >/dev/null 2>&1 || continue
    "$candidate" -c 'import yaml' 2>/dev/null || continue
    if "$candidate" -c 'import kubernetes' 2>/dev/null; then python=$candidate; break; fi
    [ -n "$python" ] || python=$candidate
done
if [ -z "$python" ]; then
    echo "check-deploy: needs python3 with PyYAML (apt-get install python3-yaml)" >&2
    exit 1
fi

# bpfleetd's flags: from a built binary's --help when the build is newer
# than the flag declarations, else (empty) from the sources.
help_file=$(mktemp)
work=$(mktemp -d)
trap 'rm -rf "$help_file" "$work"' EXIT
binary=${BPFLEETD:-.build/debug/bpfleetd}
flag_source=""
if [ -x "$binary" ]; then
    newest_source=$(ls -t Sources/bpfleetd/*.swift | head -1)
    if [ -n "${BPFLEETD:-}" ] || [ "$binary" -nt "$newest_source" ]; then
        if "$binary" --help > "$help_file" 2>&1; then
            flag_source="$binary --help"
        else
            echo "check-deploy: $binary --help failed:" >&2
            cat "$help_file" >&2
            exit 1
        fi
    fi
fi
[ -n "$flag_source" ] || : > "$help_file"

status=0
"$python" - "$help_file" "$flag_source" <<'PYTHON' || status=1
import glob, os, re, shlex, sys
import yaml

help_file, flag_source = sys.argv[1], sys.argv[2]
problems = []
def problem(text):
    problems.append(text)

# --- 1. YAML -----------------------------------------------------------------
documents = {}  # path -> list of documents
yaml_files = sorted(glob.glob("deploy/**/*.yaml", recursive=True) + glob.glob("deploy/**/*.yml", recursive=True))
if not yaml_files:
    problem("no YAML files under deploy/")
for path in yaml_files:
    try:
        with open(path) as f:
            documents[path] = [d for d in yaml.safe_load_all(f) if d is not None]
    except yaml.YAMLError as error:
        problem(f"{path}: not valid YAML: {error}".replace("\n", " "))
print(f"check-deploy: {len(documents)} of {len(yaml_files)} YAML files parse")

objects = [(path, d) for path, docs in documents.items() for d in docs if isinstance(d, dict) and "kind" in d]

# --- 2. bpfleetd's flags ------------------------------------------------------
def kebab(name):
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"-\1", name).lower()

if flag_source:
    text = open(help_file).read()
    known = set(re.findall(r"(?m)^\s+(?:-\w, )?--([a-z0-9][a-z0-9-]*)", text))
else:
    known = {"help", "version"}
    flag_source = "the @Option/@Flag declarations in Sources/bpfleetd"
    for path in sorted(glob.glob("Sources/bpfleetd/*.swift")):
        source = open(path).read()
        for attributes, var in re.findall(r"@(?:Option|Flag)\((.*?)\)\s*var\s+(\w+)", source, re.S):
            custom = re.search(r'\.customLong\("([^"]+)"', attributes)
            known.add(custom.group(1) if custom else kebab(var))
print(f"check-deploy: bpfleetd's flags from {flag_source}: {len(known)}")
if len(known) < 5:
    problem(f"found only {sorted(known)} as bpfleetd's flags in {flag_source}: the check cannot work")

def flags_in(words):
    return [w[2:].split("=", 1)[0] for w in words if w.startswith("--") and len(w) > 2]

def check_flags(where, words):
    used = flags_in(words)
    for flag in used:
        if flag not in known:
            problem(f"{where}: bpfleetd has no flag --{flag} (flags from {flag_source})")
    return used

def option_values(words, flag):
    values = []
    for i, w in enumerate(words):
        if w == f"--{flag}" and i + 1 < len(words):
            values.append(words[i + 1])
        elif w.startswith(f"--{flag}="):
            values.append(w.split("=", 1)[1])
    return values

# The systemd unit(s): ExecStart with continuations joined; $VAR and ${VAR}
# expanded from the environment files next to them.
env_values = {}
for path in sorted(glob.glob("deploy/systemd/*.env")):
    for number, line in enumerate(open(path), 1):
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
unit_sockets = {}
for unit in units:
    text = open(unit).read().replace("\\\n", " ")
    starts = [l.split("=", 1)[1] for l in text.splitlines() if l.startswith("ExecStart=")]
    if len(starts) != 1:
        problem(f"{unit}: {len(starts)} ExecStart= lines, expected 1")
        continue
    words = shlex.split(starts[0])
    program = words[0].lstrip("+-@:!")
    if os.path.basename(program) != "bpfleetd":
        problem(f"{unit}: ExecStart runs {program}, not bpfleetd")
    expanded = []
    for w in words[1:]:
        m = re.fullmatch(r"\$\{?(\w+)\}?", w)
        if m:
            if m.group(1) not in env_values:
                problem(f"{unit}: ExecStart uses ${m.group(1)}, which no deploy/systemd/*.env sets")
                continue
            env_path, value = env_values[m.group(1)]
            expanded += value.split()
            check_flags(f"{env_path} ({m.group(1)})", value.split())
        else:
            expanded.append(w)
            check_flags(f"{unit} (ExecStart)", [w])
    print(f"check-deploy: {unit}: ExecStart flags {' '.join('--' + f for f in flags_in(expanded))}")
    sockets = [v[len("unix:"):] for v in option_values(expanded, "listen") if v.startswith("unix:")]
    unit_sockets[unit] = sockets
    # The unit counts as started when the socket exists: it must be bpfleetd's.
    for waited in re.findall(r"-S\s+(\S+?)['\s\]]", text):
        if waited not in sockets:
            problem(f"{unit}: ExecStartPost waits for {waited}, but bpfleetd listens on {sockets or 'no Unix socket'}")
    for group in option_values(expanded, "socket-group"):
        unit_sockets.setdefault("groups", []).append((unit, group))

# Kubernetes: containers that run bpfleetd (command bpfleetd, or no command in
# an image of bpfleet: the image's entrypoint is bpfleetd).
def pod_specs(obj):
    spec = obj.get("spec") or {}
    if obj.get("kind") == "Pod":
        yield spec
    template = (spec.get("template") or {}).get("spec")
    if template:
        yield template
    job = ((spec.get("jobTemplate") or {}).get("spec") or {}).get("template", {}).get("spec")
    if job:
        yield job

by_name = {(o.get("kind"), (o.get("metadata") or {}).get("name")): (p, o) for p, o in objects}
daemon_containers = 0
for path, obj in objects:
    for spec in pod_specs(obj):
        volumes = {v.get("name"): v for v in spec.get("volumes") or []}
        for container in (spec.get("initContainers") or []) + (spec.get("containers") or []):
            command = container.get("command") or []
            args = container.get("args") or []
            runs = os.path.basename(command[0]) if command else ("bpfleetd" if "bpfleet" in str(container.get("image")) else "")
            if runs != "bpfleetd":
                continue
            daemon_containers += 1
            where = f"{path}: {obj['kind']} {obj['metadata'].get('name')}, container {container.get('name')}"
            words = [str(w) for w in command[1:] + args]
            used = check_flags(where, words)
            print(f"check-deploy: {where}: flags {' '.join('--' + f for f in used)}")
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
                            print(f"check-deploy: note: {kind} {name} is not under deploy/kubernetes; --{flag} {value} not checked against its keys")
                            continue
                        _, source = found
                        keys = set((source.get("data") or {}).keys()) | set((source.get("stringData") or {}).keys())
                        if rest not in keys:
                            problem(f"{where}: --{flag} {value}: {kind} {name} has no key {rest} (it has {', '.join(sorted(keys))})")
            # The readiness/liveness exec must dial bpfleetd's socket.
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
                        problem(f"{where}: {probe} checks port {port}, which is not a declared port bpfleetd listens on ({', '.join(tcp) or 'no tcp:// listener'})")
if daemon_containers == 0:
    problem("no Kubernetes container under deploy/kubernetes runs bpfleetd")

# --- 3. roles files -----------------------------------------------------------
rolebook = open("Sources/Server/Access/RoleBook.swift").read()
def struct_keys(name):
    body = re.search(r"struct " + name + r"\b[^{]*\{(.*?)\n    \}", rolebook, re.S)
    return set(re.findall(r"\bvar (\w+)\s*:", body.group(1))) if body else set()
file_keys, grant_keys = struct_keys("File"), struct_keys("Grants")
if not file_keys or not grant_keys:
    problem("cannot find the roles file's keys in Sources/Server/Access/RoleBook.swift (struct File, struct Grants)")

sysusers_groups = set()
for path in glob.glob("deploy/systemd/*.sysusers"):
    for line in open(path):
        fields = line.split()
        if fields and fields[0] in ("g", "u") and len(fields) > 1:
            sysusers_groups.add(fields[1])

def check_roles(where, roles, names_allowed):
    if not isinstance(roles, dict):
        problem(f"{where}: a roles file is a mapping (operators:, viewers:, root:, plaintext:)")
        return
    for key, value in roles.items():
        if key not in file_keys:
            problem(f"{where}: unknown key '{key}' (bpfleetd ignores it; known: {', '.join(sorted(file_keys))})")
        elif key in ("operators", "viewers"):
            for grant, names in (value or {}).items():
                if grant not in grant_keys:
                    problem(f"{where}: unknown key '{key}.{grant}' (bpfleetd ignores it; known: {', '.join(sorted(grant_keys))})")
                elif grant in ("users", "groups") and not names_allowed:
                    problem(f"{where}: {key}.{grant} names {names}: in a container those are looked up in the image, not the node; use uids/gids")
                elif grant == "groups" and names_allowed:
                    for group in names or []:
                        if group not in sysusers_groups:
                            problem(f"{where}: group '{group}' is not made by deploy/systemd/*.sysusers (bpfleetd refuses to start without it)")
        elif key in ("root", "plaintext") and value not in ("operator", "viewer", "none"):
            problem(f"{where}: {key} must be operator, viewer or none, not {value!r}")

roles_checked = 0
for path in sorted(glob.glob("deploy/systemd/*.yaml")):
    for doc in documents.get(path, []):
        check_roles(path, doc, names_allowed=True); roles_checked += 1
for path, obj in objects:
    if obj.get("kind") == "ConfigMap":
        for key, value in (obj.get("data") or {}).items():
            if key.endswith((".yaml", ".yml")) and "roles" in key:
                try:
                    check_roles(f"{path}: data.{key}", yaml.safe_load(value), names_allowed=False); roles_checked += 1
                except yaml.YAMLError as error:
                    problem(f"{path}: data.{key}: not valid YAML: {error}".replace("\n", " "))
for unit, group in unit_sockets.get("groups", []):
    if group not in sysusers_groups and not group.isdigit():
        problem(f"{unit}: --socket-group {group} is not made by deploy/systemd/*.sysusers")
print(f"check-deploy: {roles_checked} roles files use known keys")

# --- 5. Kubernetes field names ------------------------------------------------
try:
    import kubernetes.client as models
except ImportError:
    models = None
    print("check-deploy: note: python3-kubernetes is not installed: Kubernetes field names not checked (apt-get install python3-kubernetes)")

if models is not None:
    from kubernetes.client import ApiClient
    client = ApiClient()
    def model_for(obj):
        group = obj.get("apiVersion", "").split("/")[-1].capitalize()
        return getattr(models, group + obj["kind"], None)
    def walk(value, type_name, where):
        if value is None:
            return
        m = re.fullmatch(r"list\[(.*)\]", type_name)
        if m:
            if not isinstance(value, list):
                problem(f"{where}: expected a list")
                return
            for i, item in enumerate(value):
                walk(item, m.group(1), f"{where}[{i}]")
            return
        m = re.fullmatch(r"dict\((\w+), (.*)\)", type_name)
        if m:
            if not isinstance(value, dict):
                problem(f"{where}: expected a mapping")
                return
            for k, v in value.items():
                walk(v, m.group(2), f"{where}.{k}")
            return
        scalars = {"str": (str,), "int": (int,), "bool": (bool,), "float": (int, float)}
        if type_name in scalars:
            if not isinstance(value, scalars[type_name]) or (type_name == "int" and isinstance(value, bool)):
                problem(f"{where}: expected {type_name}, found {type(value).__name__} {value!r}")
            return
        cls = getattr(models, type_name, None)
        if cls is None:  # object (IntOrString, Quantity...), datetime
            return
        if not isinstance(value, dict):
            problem(f"{where}: expected a {type_name} mapping")
            return
        fields = {json: attr for attr, json in cls.attribute_map.items()}
        for key, item in value.items():
            if key not in fields:
                problem(f"{where}: unknown field '{key}' in {type_name} (not in the Kubernetes API models of python3-kubernetes {models.__dict__.get('__version__', '')})".rstrip())
                continue
            walk(item, cls.openapi_types[fields[key]], f"{where}.{key}")
    checked = 0
    for path, obj in objects:
        cls = model_for(obj)
        if cls is None:
            if obj.get("kind") != "Kustomization":
                print(f"check-deploy: note: {path}: no model for {obj.get('apiVersion')} {obj.get('kind')}; fields not checked")
            continue
        walk(obj, cls.__name__, f"{path}: {obj['kind']}")
        try:  # the generated models refuse a missing required field
            client._ApiClient__deserialize(obj, cls.__name__)
        except (ValueError, TypeError) as error:
            problem(f"{path}: {obj['kind']}: {error}")
        checked += 1
    print(f"check-deploy: {checked} Kubernetes objects use only known fields")

for text in problems:
    print(f"check-deploy: {text}", file=sys.stderr)
sys.exit(1 if problems else 0)
PYTHON

# --- 6. systemd ---------------------------------------------------------------
if command -v systemd-analyze >/dev/null 2>&1; then
    for unit in deploy/systemd/*.service; do
        name=$(basename "$unit")
        # The binary is not installed here: verify checks that ExecStart's
        # program is executable, so point it at one that is.
        sed 's#/usr/local/bin/bpfleetd#/bin/true#g' "$unit" > "$work/$name"
        output=$(cd "$work" && systemd-analyze verify "$work/$name" 2>&1) || {
            echo "check-deploy: systemd-analyze verify $unit failed:" >&2
            echo "$output" | sed "s#$work/##" >&2
            status=1
            continue
        }
        # Unknown keys and bad values are warnings with exit status 0.
        ours=$(echo "$output" | grep -F "$name" || true)
        if [ -n "$ours" ]; then
            echo "check-deploy: systemd-analyze verify $unit warns:" >&2
            echo "$ours" | sed "s#$work/##" >&2
            status=1
        else
            echo "check-deploy: systemd-analyze verify $unit: ok"
        fi
    done
else
    echo "check-deploy: note: systemd-analyze is not installed: units not verified (apt-get install systemd)"
fi
if command -v systemd-sysusers >/dev/null 2>&1; then
    for file in deploy/systemd/*.sysusers; do
        root="$work/sysusers-root"
        rm -rf "$root" && mkdir -p "$root/etc"
        if ! output=$(systemd-sysusers --root="$root" - < "$file" 2>&1); then
            echo "check-deploy: systemd-sysusers $file failed: $output" >&2
            status=1
        elif [ -n "$(echo "$output" | grep -v '^Creating group\|^Creating user' || true)" ]; then
            echo "check-deploy: systemd-sysusers $file warns: $output" >&2
            status=1
        else
            echo "check-deploy: systemd-sysusers $file: makes $(cut -d: -f1 "$root/etc/group" | paste -sd' ')"
        fi
    done
fi

if [ "$status" -ne 0 ]; then
    echo "check-deploy: FAILED" >&2
    exit 1
fi
echo "check-deploy: ok"
