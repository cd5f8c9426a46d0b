"""The API reference shows every use case under its area, and the error tree as the code defines it."""

import inspect
import re
from pathlib import Path

import ownership
from ownership import OwnershipError, errors

DOCS = Path(__file__).resolve().parents[2] / "docs"


def error_tree(root: type[BaseException] = OwnershipError, prefix: str = "") -> list[str]:
    """`root`'s subclasses in `ownership.errors`, drawn as a tree in the order the module defines them."""
    defined = [cls for _, cls in inspect.getmembers(errors, inspect.isclass) if issubclass(cls, OwnershipError)]
    order = {cls: n for n, cls in enumerate(sorted(defined, key=lambda c: inspect.getsourcelines(c)[1]))}
    children = sorted((c for c in defined if root in c.__bases__), key=order.__getitem__)
    lines = [] if prefix else [root.__name__]
    for n, child in enumerate(children):
        last = n == len(children) - 1
        also = [b.__name__ for b in child.__bases__ if b is not root and not issubclass(b, OwnershipError)]
        lines.append(f"{prefix}{'└── ' if last else '├── '}{child.__name__}{f' (also {also[0]})' if also else ''}")
        lines += error_tree(child, prefix + ("    " if last else "│   "))
    return lines


def test_the_errors_page_draws_the_error_tree_the_code_defines() -> None:
    page = (DOCS / "reference" / "errors.md").read_text(encoding="utf-8")
    drawn = re.search(r"```text\n(.*?)```", page, re.S)
    assert drawn is not None, "docs/reference/errors.md draws the tree in a ```text block"
    assert drawn.group(1).splitlines() == error_tree()


def test_the_service_page_shows_every_use_case_once_under_an_area() -> None:
    page = (DOCS / "reference" / "service.md").read_text(encoding="utf-8")
    shown = re.findall(r"^::: ownership\.Ownership\.(\w+)$", page, re.M)
    public = sorted(
        name
        for name in dir(ownership.Ownership)
        if not name.startswith("_") and callable(getattr(ownership.Ownership, name))
    )
    assert sorted(shown) == public
    areas = re.split(r"^## ", page, flags=re.M)[1:]
    assert all("::: ownership.Ownership." in area for area in areas[:-1])


if __name__ == "__main__":
    print("\n".join(error_tree()))
