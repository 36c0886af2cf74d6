"""BIP-380 descriptor checksums: every single-character change is caught."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from seedguard.hd.descriptors import CHECKSUM_CHARSET, INPUT_CHARSET, checksum, with_checksum

DESCRIPTOR = st.text(alphabet=INPUT_CHARSET, min_size=1, max_size=80)


@settings(max_examples=200, deadline=None)
@given(DESCRIPTOR, st.data())
def test_a_changed_character_changes_the_checksum(descriptor: str, data: st.DataObject) -> None:
    position = data.draw(st.integers(0, len(descriptor) - 1))
    replacement = data.draw(
        st.sampled_from(INPUT_CHARSET).filter(lambda c: c != descriptor[position])
    )
    changed = descriptor[:position] + replacement + descriptor[position + 1 :]
    assert checksum(changed) != checksum(descriptor)


@given(DESCRIPTOR)
def test_shape(descriptor: str) -> None:
    body, _, check = with_checksum(descriptor).rpartition("#")
    assert body == descriptor
    assert len(check) == 8
    assert set(check) <= set(CHECKSUM_CHARSET)
