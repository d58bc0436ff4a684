"""Named blocks (begin / process / end) as the parser gives them and `named_blocks` reads them."""

from __future__ import annotations

from psremoting.pslang.blocks import named_blocks
from psremoting.pslang.parser import parse


def _texts(script_text: str) -> dict[str, str] | None:
    blocks = named_blocks(parse(script_text))
    if blocks is None:
        return None
    return {
        name: getattr(blocks, name).text.strip()
        for name in ("begin", "process", "end", "clean")
        if getattr(blocks, name) is not None
    }


def test_a_scripts_named_blocks_on_one_line_or_several() -> None:
    assert _texts("begin { 1 } process { $_ } end { 3 }") == {"begin": "1", "process": "$_", "end": "3"}
    assert _texts("param($a)\nbegin { $t = 0 }\nprocess { $t += $_ }\nend { $t }") == {
        "begin": "$t = 0",
        "process": "$t += $_",
        "end": "$t",
    }
    assert _texts("process { $_ * 2 }") == {"process": "$_ * 2"}


def test_named_blocks_inside_a_script_block_and_a_function() -> None:
    (assignment,) = parse("$f = { begin { 'b' } process { $_ } }").statements
    block = assignment.value.elements[0]  # type: ignore[union-attr]
    blocks = named_blocks(block.body)
    assert (
        blocks is not None and blocks.begin is not None and blocks.process is not None and blocks.end is None
    )
    (function,) = parse("function Double { process { $_ * 2 } }").statements
    assert named_blocks(function.body.body) is not None  # type: ignore[union-attr]


def test_plain_scripts_and_look_alikes_have_no_named_blocks() -> None:
    assert _texts("$input | ForEach-Object { $_ }") is None
    assert _texts("begin") is None  # a command called begin, without a block
    assert _texts("begin { 1 } Write-Output 2") is None  # a block name must precede each block
    assert _texts("begin { 1 } begin { 2 }") is None  # each block once
    assert _texts("") is None


def test_parameter_names_ending_in_digits() -> None:
    """-UseUTF16 (New-PSSessionOption): the grammar alone would read "16" as a redirection."""
    (command,) = parse("New-PSSessionOption -UseUTF16 -Culture de-DE").statements[0].elements  # type: ignore[union-attr]
    assert [getattr(e, "name", None) for e in command.elements] == ["UseUTF16", "Culture", None]  # type: ignore[union-attr]
    (command,) = parse("x -UseUTF16:$true").statements[0].elements  # type: ignore[union-attr]
    assert command.elements[0].name == "UseUTF16"  # type: ignore[union-attr]
    # Not inside quotes.
    assert parse("Write-Output '-ab12 x'").statements[0].elements[0].elements[0].value == "-ab12 x"  # type: ignore[union-attr]
