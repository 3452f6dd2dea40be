"""The fault matrix's counts (tests/test_fault_matrix.py), printed by conftest's summary hook."""

# Scenarios the fault matrix ran and the invariant violations it saw.
FAULT_MATRIX: dict[str, int] = {"scenarios": 0, "violations": 0}
# Violations per (fault, phase) of the matrix; None: the scenario stopped before it was checked.
FAULT_MATRIX_CELLS: dict[tuple[str, str], int | None] = {}


def fault_table() -> str:
    """Return the matrix as Markdown: a row per fault, a column per phase; held, or what broke."""
    faults = list(dict.fromkeys(fault for fault, _ in FAULT_MATRIX_CELLS))
    points = list(dict.fromkeys(point for _, point in FAULT_MATRIX_CELLS))

    def cell(key: tuple[str, str]) -> str:
        if key not in FAULT_MATRIX_CELLS:
            return "-"
        found = FAULT_MATRIX_CELLS[key]
        return "not checked" if found is None else ("held" if found == 0 else f"{found} broken")

    lines = [
        "| fault | " + " | ".join(f"`{p}`" for p in points) + " |",
        "| --- |" + " :-: |" * len(points),
    ]
    lines += [
        f"| {fault} | " + " | ".join(cell((fault, p)) for p in points) + " |" for fault in faults
    ]
    return "\n".join(lines) + "\n"
