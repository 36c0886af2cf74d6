"""The terminal QR drawing holds exactly the symbol's modules, quiet zone included."""

from __future__ import annotations

from seedguard.cli.render import qr_text
from seedguard.mnemonic import bip39, seedqr

BITS = {" ": (0, 0), "▀": (1, 0), "▄": (0, 1), "█": (1, 1)}


def _read_back(text: str) -> list[list[int]]:
    rows: list[list[int]] = []
    for line in text.splitlines():
        rows.append([BITS[c][0] for c in line])
        rows.append([BITS[c][1] for c in line])
    return rows


def test_half_blocks_round_trip_to_the_matrix() -> None:
    for words, compact in ((12, False), (24, False), (12, True), (24, True)):
        code = seedqr.qr_code(bip39.generate(words), compact)
        matrix = [[int(bool(v)) for v in row] for row in code.matrix]
        drawn = _read_back(qr_text(code.matrix, border=4).plain)
        size = len(matrix) + 8
        assert all(len(row) == size for row in drawn)
        assert drawn[:4] == [[0] * size] * 4  # the quiet zone
        assert [row[4:-4] for row in drawn[4 : 4 + len(matrix)]] == matrix
        assert all(not any(row) for row in drawn[4 + len(matrix) :])
