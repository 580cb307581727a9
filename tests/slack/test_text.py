"""slack.text: lists are cut at line boundaries only, and always say how many were left out."""
from chalice_app.slack.message import MAX_HEADER_TEXT, MAX_SECTION_TEXT, SlackMessage, message_text_length
from chalice_app.slack.text import (clip, code, escape, fit_lines, fit_message, fit_text, fit_words, refit_lines,
                                    titled_list)


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


def test_refit_lines_cuts_again_and_counts_what_was_left_out_before():
    listed = fit_lines(["*Scaled down* (40)", *[f"• fn-{n:02d}" for n in range(40)]], limit=200)
    assert listed.endswith("\n…and 19 more")  # 21 bullets shown
    again = refit_lines(listed, 100)
    lines = again.split("\n")
    assert len(again) <= 100 and lines[0] == "*Scaled down* (40)"
    assert len(lines) - 2 + int(lines[-1].split()[1]) == 40 and lines[-1].endswith(" more")
    assert refit_lines(listed, 1000) == listed


def test_refit_lines_keeps_the_first_line_and_cuts_a_paragraph_visibly():
    assert refit_lines("*Title* (3)\n• a\n• b\n• c", 20) == "*Title* (3)\n…and 3 more lines"
    assert refit_lines("x" * 50, 30) == "x" * 29 + "…"
    assert refit_lines("y" * 50 + "\nz", 30).split("\n") == ["y" * 19 + "…", "…and 1 more line"]


def test_fit_message_shares_the_budget_and_keeps_short_sections_whole():
    def section(text):
        return {"type": "section", "text": {"type": "mrkdwn", "text": text}}

    long_list = "\n".join(["*Long* (300)", *[f"• item {n:03d}" for n in range(300)]])
    short = section("*Short* (1)\n• one")
    header = {"type": "header", "text": {"type": "plain_text", "text": "h" * 150}}
    message = SlackMessage("t", [header, section(long_list), short, section(long_list)])
    fitted = fit_message(message, limit=2000)
    assert message_text_length(fitted) <= 2000
    assert fitted.blocks[0] == header and fitted.blocks[2] == short
    for block in (fitted.blocks[1], fitted.blocks[3]):
        lines = block["text"]["text"].split("\n")
        assert lines[0] == "*Long* (300)" and len(lines) - 2 + int(lines[-1].split()[1]) == 300
    assert fit_message(message, limit=10_000) is message


def test_one_left_out_is_said_in_the_singular_and_read_back_as_the_plural():
    assert fit_lines(["a", "b", "c"], 100, "more functions", max_lines=1) == "a\n…and 2 more functions"
    assert fit_lines(["a", "b", "c"], 100, "more functions", max_lines=2) == "a\nb\n…and 1 more function"
    assert fit_words(["x" * 10, "y" * 30], 40, "instances") == "x" * 10 + ", …and 1 more instance"
    # a list cut to "…and 1 more line", cut again: the lines it leaves out now are added, in the plural
    assert refit_lines("*T*\n• a\n• b\n…and 1 more line", 22) == "*T*\n…and 3 more lines"
