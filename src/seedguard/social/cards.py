"""Printable share cards: a PNG and a PDF per share, with the guardian's name, the share and
group numbers, the numbered words, a QR code of the words, and the mode in capitals."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import segno
from fpdf import FPDF
from PIL import Image, ImageDraw, ImageFont

MODE_NOTES = {
    "bip39": "BIP39 MODE: combining these shares gives back a BIP-39 phrase. Do NOT restore them "
    "as a native SLIP-39 backup on a hardware wallet: that opens a different wallet.",
    "slip39": "SLIP39 MODE: a native SLIP-39 wallet. Restore on a SLIP-39 device, with the "
    "passphrase if one was set.",
}


# A Unicode font for guardians' names where the system has one (Debian: fonts-dejavu-core);
# otherwise Pillow's built-in font and the PDF core fonts (Latin-1 only).
FONT = next(
    (
        p
        for p in (
            Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
            Path("/usr/share/fonts/dejavu/DejaVuSans.ttf"),
        )
        if p.exists()
    ),
    None,
)


def _pil_font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    if FONT is not None:
        return ImageFont.truetype(str(FONT), size)
    return ImageFont.load_default(size=size)


@dataclass(frozen=True, repr=False)
class Card:
    mode: str
    words: tuple[str, ...]
    group: int
    groups: int
    group_threshold: int
    member: int
    members: int
    threshold: int
    name: str = ""

    def __repr__(self) -> str:
        return f"Card(group={self.group}, member={self.member}, ***)"

    @property
    def title(self) -> str:
        return f"SEEDGUARD SLIP-39 SHARE · {self.mode.upper()} MODE"

    @property
    def numbers(self) -> str:
        line = f"Share {self.member} of {self.members} ({self.threshold} needed)"
        if self.groups > 1:
            line = (
                f"Group {self.group} of {self.groups} ({self.group_threshold} groups needed) · "
                + line
            )
        return line


def _qr_image(words: tuple[str, ...], size: int) -> Image.Image:
    buffer = io.BytesIO()
    segno.make(" ".join(words), error="m").save(buffer, kind="png", scale=10, border=2)
    buffer.seek(0)
    return Image.open(buffer).convert("L").resize((size, size), Image.Resampling.NEAREST)


def png(card: Card) -> bytes:
    """A4 portrait at 150 dpi."""
    width, height = 1240, 1754
    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    big, mid, small = (_pil_font(s) for s in (40, 30, 24))
    draw.text((80, 80), card.title, font=big, fill=0)
    draw.text((80, 150), f"Guardian: {card.name or '________________'}", font=mid, fill=0)
    draw.text((80, 200), card.numbers, font=mid, fill=0)
    rows = -(-len(card.words) // 2)
    for i, word in enumerate(card.words):
        column, row = divmod(i, rows)
        draw.text((80 + column * 320, 290 + row * 52), f"{i + 1:>2}. {word}", font=mid, fill=0)
    image.paste(_qr_image(card.words, 420), (740, 290))
    y = 290 + rows * 52 + 60
    for line in _wrap(MODE_NOTES[card.mode], 80):
        draw.text((80, y), line, font=small, fill=0)
        y += 34
    draw.text((80, height - 120), "Keep it private. Fewer shares than needed reveal nothing.",
              font=small, fill=0)  # fmt: skip
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def pdf(card: Card) -> bytes:
    """One A4 page. Without a Unicode font, characters of a name beyond Latin-1 become '?'."""
    doc = FPDF(format="A4")
    doc.set_auto_page_break(False)
    doc.add_page()
    family = "Helvetica"
    if FONT is not None:
        doc.add_font("Card", "", str(FONT))
        family = "Card"
    text = _latin1 if FONT is None else str
    doc.set_font(family, "", 16)
    doc.cell(0, 10, text(card.title), new_x="LMARGIN", new_y="NEXT")
    doc.set_font(family, "", 13)
    doc.cell(0, 8, text(f"Guardian: {card.name or '________________'}"),
             new_x="LMARGIN", new_y="NEXT")  # fmt: skip
    doc.cell(0, 8, text(card.numbers), new_x="LMARGIN", new_y="NEXT")
    rows = -(-len(card.words) // 2)
    doc.set_font("Courier", "", 13)
    for i, word in enumerate(card.words):
        column, row = divmod(i, rows)
        doc.set_xy(12 + column * 55, 45 + row * 8)
        doc.cell(50, 8, f"{i + 1:>2}. {word}")
    qr = io.BytesIO()
    segno.make(" ".join(card.words), error="m").save(qr, kind="png", scale=10, border=2)
    qr.seek(0)
    doc.image(qr, x=125, y=45, w=70, h=70)
    doc.set_xy(12, 45 + rows * 8 + 10)
    doc.set_font(family, "", 10)
    doc.multi_cell(185, 5, text(MODE_NOTES[card.mode]))
    return bytes(doc.output())


def _latin1(text: str) -> str:
    return text.replace("·", "-").encode("latin-1", "replace").decode("latin-1")


def _wrap(text: str, width: int) -> list[str]:
    lines, line = [], ""
    for word in text.split():
        if len(line) + len(word) + 1 > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return [*lines, line]
