"""The apps are layered (STYLE 6: imports run one way): pods <- recipients <- receipts
<- pledges. An app imports only from the layers below it (mutualaid, the project, wires
them all together; users sits beside them). The one named call upward is
recipients.services._replan (when who is enrolled changes, the plan of the weeks not
started is rebuilt); anything else is a new upward import, and fails here."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ["pods", "recipients", "receipts", "pledges"]
# (module, function holding the import, module imported)
ALLOWED_UPWARD = {("recipients/services.py", "_replan", "pledges.services")}


def upward_imports():
    found = set()
    for layer, app in enumerate(LAYERS):
        above = LAYERS[layer + 1 :]
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text(), filename=str(path))
            for function, node in _imports(tree):
                modules = (
                    [alias.name for alias in node.names]
                    if isinstance(node, ast.Import)
                    else [node.module or ""]
                )
                for module in modules:
                    if module.split(".")[0] in above:
                        found.add((str(path.relative_to(ROOT)), function, module))
    return found


def _imports(tree):
    """Every import, with the name of the function it sits in (None at module level)."""

    def walk(node, function):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import | ast.ImportFrom):
                yield function, child
            inner = (
                child.name
                if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
                else function
            )
            yield from walk(child, inner)

    yield from walk(tree, None)


def test_imports_run_down_the_layers_but_for_the_one_named_call():
    assert upward_imports() == ALLOWED_UPWARD


def test_the_check_sees_an_upward_import(tmp_path):
    tree = ast.parse("def f():\n    from pledges.services import replan\n")
    assert [(function, node.module) for function, node in _imports(tree)] == [
        ("f", "pledges.services")
    ]
