"""slack.text: lists are cut at line boundaries only, and always say how many were left out."""
from chalice_app.slack.message import MAX_HEADER_TEXT, MAX_SECTION_TEXT
from chalice_app.slack.text import clip, code, escape, fit_text, titled_list


def test_a_titled_list_shows_at_most_shown_lines_then_says_how_many_more():
    text = titled_list("Scaled down", [f"fn-{n}" for n in range(30)], shown=25)
    lines = text.split("\n")
    assert lines[0] == "*Scaled down* (30)" and lines[1] == "• fn-0" and lines[25] == "• fn-24"
    assert lines[-1] == "…and 5 more" and len(lines) == 27


def test_long_lines_are_never_cut_in_the_middle():
    long_lines = [f"{n:03d}" + "x" * 400 for n in range(20)]
    text = titled_list("Skipped", long_lines, shown=25)
    assert len(text) <= MAX_SECTION_TEXT
    *kept, tail = text.split("\n")
    assert all(line == "*Skipped* (20)" or line[2:] in long_lines for line in kept)
    assert tail == f"…and {20 - (len(kept) - 1)} more"


def test_an_empty_list_can_say_none():
    assert titled_list("Parked", [], empty="none") == "*Parked* (0)\n• none"


def test_a_long_text_keeps_whole_lines_and_counts_the_rest():
    text = fit_text("\n".join("y" * 100 for _ in range(50)), limit=1000)
    assert len(text) <= 1000 and text.endswith("more lines")
    assert all(line == "y" * 100 for line in text.split("\n")[:-1])


def test_one_line_is_clipped_with_an_ellipsis():
    assert clip("a" * 200, MAX_HEADER_TEXT) == "a" * (MAX_HEADER_TEXT - 1) + "…"
    assert clip("short", MAX_HEADER_TEXT) == "short"


def test_values_are_escaped_and_code_spans_cannot_be_closed():
    assert escape("<!channel>") == "&lt;!channel&gt;"
    assert code("a`b") == "`a'b`"
