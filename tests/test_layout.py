"""Imports run one way: every module imports only modules of lower layers (or of its own package),
and no modules import each other in a cycle. Read from the source with `ast`, every import
counted, those inside functions included."""

import ast
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1]

# Lowest first. Packages in one layer may not import each other.
LAYERS = (
    ("errors",),
    ("fileio",),
    ("audio",),
    ("layers", "data", "metrics"),
    ("models",),
    ("sampling",),
    ("runs",),
    ("training",),
    ("generate", "data_prep"),
    ("export",),
    ("evaluation",),
    ("demo",),
    ("cli",),
)
RANK = {part: rank for rank, parts in enumerate(LAYERS) for part in parts}
# A kind's folder holds its stages beside its model (models.contract.Kind.stages): each stands in
# the layer of its stage, so a kind's export module may use export/ but its model may not.
STAGES = {"quality": "training", "generation": "generate", "codec": "generate", "export": "export"}


def module_name(path, root=ROOT):
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path):
    """The project modules a file imports (absolute names; `from pkg import name` counts pkg.name
    when that is a module, else pkg)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {n for n in names if n.split(".")[0] in ("nsynth_synth", "data_prep")}


def part(module):
    """The layer entry of a module: nsynth_synth.models.kinds -> models; data_prep.bach -> data_prep;
    a kind's stage, nsynth_synth.models.harmonic.export -> export."""
    pieces = module.split(".")
    if pieces[0] == "data_prep":
        return "data_prep"
    if len(pieces) == 4 and pieces[1] == "models" and pieces[3] in STAGES:
        return STAGES[pieces[3]]
    return pieces[1] if len(pieces) > 1 else None


def graph(root=ROOT):
    files = [p for package in ("nsynth_synth", "data_prep") for p in (root / package).rglob("*.py")]
    modules = {module_name(p): p for p in files}
    return {name: {m for m in imports(path) if m in modules} for name, path in modules.items()}


def climbing(edges):
    """(importer, imported) pairs that do not go down the layers."""
    bad = []
    for importer, imported in edges.items():
        for target in imported:
            a, b = part(importer), part(target)
            if a is None or b is None or a == b:
                continue
            if a not in RANK or b not in RANK or RANK[b] >= RANK[a]:
                bad.append((importer, target))
    return sorted(bad)


def cycles(edges):
    """Module import cycles, each as a list of modules (depth-first search)."""
    found, state = [], {}

    def visit(module, stack):
        state[module] = "open"
        stack.append(module)
        for target in sorted(edges[module]):
            if state.get(target) == "open":
                found.append(stack[stack.index(target):] + [target])
            elif target not in state:
                visit(target, stack)
        stack.pop()
        state[module] = "done"

    for module in sorted(edges):
        if module not in state:
            visit(module, [])
    return found


def test_every_package_has_a_layer():
    assert {part(m) for m in graph() if part(m)} - set(RANK) == set()


def test_imports_go_down_the_layers():
    assert climbing(graph()) == []


def test_no_import_cycles():
    assert cycles(graph()) == []


def test_the_checks_catch_a_climbing_import_and_a_cycle():
    edges = {"nsynth_synth.models.kinds": {"nsynth_synth.runs"}, "nsynth_synth.runs": {"nsynth_synth.models.kinds"}}
    assert climbing(edges) == [("nsynth_synth.models.kinds", "nsynth_synth.runs")]
    # A kind's model may not use a stage's package; its stage module may.
    assert climbing({"nsynth_synth.models.harmonic.model": {"nsynth_synth.export.modules"},
                     "nsynth_synth.models.harmonic.export": {"nsynth_synth.export.modules"}}) == [
        ("nsynth_synth.models.harmonic.model", "nsynth_synth.export.modules")]
    assert cycles(edges) == [["nsynth_synth.models.kinds", "nsynth_synth.runs", "nsynth_synth.models.kinds"]]


def kind_names(root=ROOT):
    """(module, what) for every place outside nsynth_synth/models/ that names a model kind or a
    MIDI-conditioned family (a string equal to one, other than a key of a dict literal: a record's
    field), or imports a kind's own modules: the stages reach a kind only through its contract
    (models/contract.py)."""
    from nsynth_synth.models.kinds import KINDS
    from nsynth_synth.models.midi_conditioned.config import ARCHITECTURES

    names = set(KINDS) | set(ARCHITECTURES)
    found = []
    for path in sorted((root / "nsynth_synth").rglob("*.py")):
        module = module_name(path, root)
        if part(module) == "models" or module.startswith("nsynth_synth.models."):
            continue
        tree = ast.parse(path.read_text())
        keys = {id(key) for node in ast.walk(tree) if isinstance(node, ast.Dict) for key in node.keys}
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and node.value in names and id(node) not in keys:
                found.append((module, repr(node.value)))
        folders = {".".join(t.split(".")[:3]) for t in imports(path)}
        found += [(module, f"imports {folder}") for folder in sorted(folders) if folder.split(".")[2:] and
                  folder.split(".")[1] == "models" and folder.split(".")[2] in KINDS]
    return found


def test_no_stage_names_a_kind(tmp_path):
    assert kind_names() == []
    stage = tmp_path / "nsynth_synth" / "export"
    stage.mkdir(parents=True)
    (stage / "bad.py").write_text('from nsynth_synth.models.harmonic.model import build_model\n'
                                  'if kind.name == "harmonic":\n    pass\nrecord = {"harmonic": 1}\n')
    assert kind_names(tmp_path) == [("nsynth_synth.export.bad", "'harmonic'"),
                                    ("nsynth_synth.export.bad", "imports nsynth_synth.models.harmonic")]
