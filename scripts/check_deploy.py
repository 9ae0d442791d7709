#!/usr/bin/env python3
"""Checks the deployment files under deploy/ (docs/deploy.md):
 1. every YAML file parses (and the roles file inside the ConfigMap too);
 2. every bpfleetd flag in the systemd unit (ExecStart and the variables it
    takes from deploy/systemd/*.env) and in the Kubernetes containers that
    run bpfleetd is a flag bpfleetd has: from `bpfleetd --help` of a build
    newer than Sources/bpfleetd, else from the @Option/@Flag declarations;
 3. roles files use only keys the server knows (it ignores unknown ones, so
    a typo would silently grant nothing), name only groups the sysusers
    file makes (systemd) or no names at all (Kubernetes: the image has no
    such users or groups);
 4. the pieces agree: the unit waits for the socket bpfleetd listens on, the
    DaemonSet's files are under its volume mounts and named as the Secret
    and ConfigMap keys, its readiness probe dials its socket;
 5. Kubernetes objects use only field names of the Kubernetes API (the
    models of python3-kubernetes, when installed) and have their required
    fields;
 6. `systemd-analyze verify` accepts each unit without a warning, and
    `systemd-sysusers` accepts the sysusers file (when those exist).
1 to 4 are scripts/deploy_checks.py. Prints what it checked; exits 1 with
one line per problem.

Usage: scripts/check_deploy.py     (BPFLEETD=PATH: take the flags from that binary)"""
from __future__ import annotations

import glob
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True  # no scripts/__pycache__ from importing deploy_checks
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def say(text: str) -> None:
    print(f"check-deploy: {text}", flush=True)


def complain(text: str) -> None:
    print(f"check-deploy: {text}", file=sys.stderr, flush=True)


# --- a Python with PyYAML; one that also has the Kubernetes models if there is one ---

def _has(python: str, module: str) -> bool:
    return subprocess.run([python, "-c", f"import {module}"], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL).returncode == 0


def _importable(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def choose_python() -> None:
    """Goes on here, or runs this file again under a Python that has more of
    PyYAML and the Kubernetes models (/usr/bin/python3 first, then python3);
    exits 1 if none has PyYAML."""
    if _importable("yaml") and _importable("kubernetes"):
        return
    chosen = None
    for candidate in ("/usr/bin/python3", "python3"):
        path = shutil.which(candidate)
        if not path or not _has(path, "yaml"):
            continue
        if _has(path, "kubernetes"):
            chosen = path
            break
        chosen = chosen or path
    if chosen is None and not _importable("yaml"):
        complain("needs python3 with PyYAML (apt-get install python3-yaml)")
        sys.exit(1)
    if chosen is not None and (not _importable("yaml") or _has(chosen, "kubernetes")):
        os.execv(chosen, [chosen, os.path.abspath(__file__), *sys.argv[1:]])




# --- 5. Kubernetes field names ------------------------------------------------

def check_kubernetes_fields(objects: list[tuple[str, dict]], problem) -> None:
    try:
        import kubernetes.client as models
    except ImportError:
        say("note: python3-kubernetes is not installed: Kubernetes field names not checked (apt-get install python3-kubernetes)")
        return
    from kubernetes.client import ApiClient
    client = ApiClient()
    version = models.__dict__.get("__version__", "")

    def model_for(obj: dict):
        group = obj.get("apiVersion", "").split("/")[-1].capitalize()
        return getattr(models, group + obj["kind"], None)

    def walk(value: object, type_name: str, where: str) -> None:
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
                problem(f"{where}: unknown field '{key}' in {type_name} (not in the Kubernetes API models of python3-kubernetes {version})".rstrip())
                continue
            walk(item, cls.openapi_types[fields[key]], f"{where}.{key}")

    checked = 0
    for path, obj in objects:
        cls = model_for(obj)
        if cls is None:
            if obj.get("kind") != "Kustomization":
                say(f"note: {path}: no model for {obj.get('apiVersion')} {obj.get('kind')}; fields not checked")
            continue
        walk(obj, cls.__name__, f"{path}: {obj['kind']}")
        try:  # the generated models refuse a missing required field
            client._ApiClient__deserialize(obj, cls.__name__)
        except (ValueError, TypeError) as error:
            problem(f"{path}: {obj['kind']}: {error}")
        checked += 1
    say(f"{checked} Kubernetes objects use only known fields")


# --- 6. systemd -------------------------------------------------------------------

def _without(work: str, text: str) -> str:
    return "\n".join(line.replace(f"{work}/", "", 1) for line in text.split("\n"))


def verify_units(work: str) -> int:
    """systemd-analyze verify of each unit: 1 if one fails or warns."""
    if shutil.which("systemd-analyze") is None:
        say("note: systemd-analyze is not installed: units not verified (apt-get install systemd)")
        return 0
    status = 0
    for unit in sorted(glob.glob("deploy/systemd/*.service")):
        name = os.path.basename(unit)
        # The binary is not installed here: verify checks that ExecStart's
        # program is executable, so point it at one that is.
        with open(unit) as f, open(os.path.join(work, name), "w") as copy:
            copy.write(f.read().replace("/usr/local/sbin/bpfleetd", "/bin/true"))
        done = subprocess.run(["systemd-analyze", "verify", os.path.join(work, name)], cwd=work,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        output = done.stdout.rstrip("\n")
        if done.returncode != 0:
            complain(f"systemd-analyze verify {unit} failed:")
            print(_without(work, output), file=sys.stderr, flush=True)
            status = 1
            continue
        # Unknown keys and bad values are warnings with exit status 0.
        ours = "\n".join(line for line in output.split("\n") if name in line)
        if ours:
            complain(f"systemd-analyze verify {unit} warns:")
            print(_without(work, ours), file=sys.stderr, flush=True)
            status = 1
        else:
            say(f"systemd-analyze verify {unit}: ok")
    return status


def check_sysusers(work: str) -> int:
    """systemd-sysusers --root of each sysusers file: 1 if one fails or says more than what it makes."""
    if shutil.which("systemd-sysusers") is None:
        return 0
    status = 0
    for path in sorted(glob.glob("deploy/systemd/*.sysusers")):
        root = os.path.join(work, "sysusers-root")
        shutil.rmtree(root, ignore_errors=True)
        os.makedirs(os.path.join(root, "etc"))
        with open(path) as f:
            done = subprocess.run(["systemd-sysusers", f"--root={root}", "-"], stdin=f,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        output = done.stdout.rstrip("\n")
        others = [line for line in output.split("\n") if not line.startswith(("Creating group", "Creating user"))]
        if done.returncode != 0:
            complain(f"systemd-sysusers {path} failed: {output}")
            status = 1
        elif "\n".join(others).rstrip("\n"):
            complain(f"systemd-sysusers {path} warns: {output}")
            status = 1
        else:
            with open(os.path.join(root, "etc", "group")) as f:
                groups = " ".join(line.split(":", 1)[0] for line in f.read().splitlines())
            say(f"systemd-sysusers {path}: makes {groups}")
    return status


def main() -> int:
    os.chdir(REPO)
    choose_python()
    import yaml

    import deploy_checks as checks
    deploy = checks.Deploy(yaml)
    deploy.check_units()
    deploy.check_containers()
    deploy.check_roles_files()
    check_kubernetes_fields(deploy.objects, checks.problem)
    for text in checks.problems:
        complain(text)
    status = 1 if checks.problems else 0
    with tempfile.TemporaryDirectory() as work:
        status |= verify_units(work)
        status |= check_sysusers(work)
    if status:
        complain("FAILED")
        return 1
    say("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
