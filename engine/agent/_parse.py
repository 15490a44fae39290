"""The pure core: message text + draft + uploads → what to do (a plan, a question, an answer, ...).

No I/O and no timeline calls. The decisions, in order:

1. nothing but blanks, emoji or punctuation → ``Noop``;
2. undo / redo / "the first version" → ``Revision`` (on its own; mixed with edits → ``Answer``);
3. a question about the video ("how long is it?") → ``Info``;
4. export / credits / status / upload (the client's routing words, docs/protocol.md §4, English or
   Chinese) → ``Answer`` naming the tool;
5. an empty draft: a description → ``Generate`` (or a ``Question`` when there is nothing to show);
   an edit → ``Answer`` (no video yet); else ``Noop``;
6. "make a new video …" → ``Generate`` again;
7. otherwise the message is split into clauses (``_clause``), lists of wishes are refined, pronouns
   carry the previous clause's subject, and each clause is matched against the intent table
   (``_intents``). Several clauses make one ``Plan`` (applied in order, atomically, by the caller);
   the first question or refusal wins, so an ambiguous part never half-applies.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from itertools import pairwise

from engine import timeline as tl
from engine.agent import _lexicon as lx
from engine.agent._clause import Clause, joins_a_range, split_clauses
from engine.agent._generate import card_words, has_visuals, read_spec, wants_generation
from engine.agent._intents import AI_TEXT, CAN_DO, RULES, match
from engine.agent._lexer import Kind, Tok, tokenize
from engine.agent._plan import (
    Answer,
    Generate,
    Info,
    MainRef,
    Noop,
    Op,
    Outcome,
    Plan,
    Question,
    Revision,
    TextRef,
)
from engine.agent._refs import main_refs, ordinal_run
from engine.agent._types import Draft, MediaRef
from engine.agent._view import TextInfo, View, make_view, name_words, secs
from engine.render import FORMATS

__all__ = ["parse"]

MAX_OPERATIONS = 30  # one message, one reviewable change set
MAX_MESSAGE_CHARS = 4000  # longer messages are read up to here (a pasted essay is not an edit list)

ROUTES = (
    (
        "export",
        f"To export, use the export tool ({', '.join(FORMATS[:-1])} or {FORMATS[-1]}); "
        "exporting costs no credits.",
    ),
    ("credits", "To see your credits, use the credits tool; generating costs 10 credits and each edit 1."),
    ("status", "To see the timeline, use the get_state tool: it shows the track summary."),
    (
        "upload",
        "To add media, use the upload tool (mp4 mov avi webm mkv jpg png gif webp mp3 wav m4a aac, up "
        "to 500 MB), then tell me what to do with it.",
    ),
)

NOOP_TEXT = (
    "I didn't find an edit in that, so nothing changed. "
    + CAN_DO
    + (' For example: "shorten the intro to 2 seconds" or "add a text overlay \'Limited offer\' at 10s".')
)


_REVISION_WORDS = {"undo": "undo", "redo": "redo", "first": "go back to the first version"}


def _keys(c: Clause) -> str | None:
    """Keyboard habits: ctrl+z / cmd-z / ⌘Z undo; ctrl+shift+z / ctrl+y / cmd+shift+z redo."""
    words = set(c.words)
    if words & {"ctrl-z", "cmd-z"}:
        return "undo"
    if words & {"ctrl-y", "cmd-y"}:
        return "redo"
    held = bool(words & {"ctrl", "cmd", "command", "control"}) or c.source.lstrip().startswith("⌘")
    if not held or len(c.words) > 4:
        return None
    if "y" in words or ("z" in words and "shift" in words):
        return "redo"
    return "undo" if "z" in words else None


def _steps(c: Clause) -> int:
    """ "undo twice", "go back two steps", "revert my last 3 edits" → how many steps."""
    for t in c.toks:
        if t.kind is Kind.MULT and t.value == int(t.value) and 2 <= t.value <= 20:
            return int(t.value)
    for i, t in enumerate(c.toks):
        if t.kind is Kind.NUM and t.value == int(t.value) and 2 <= t.value <= 20:
            nxt = c.toks[i + 1] if i + 1 < len(c.toks) else None
            if nxt is None or nxt.is_word(*_STEP_NOUNS):
                return int(t.value)
    return 1


_STEP_NOUNS = ("steps", "step", "edits", "edit", "changes", "change", "times", "things", "actions")


def _revision(c: Clause) -> Revision | None:
    if c.has("first_version"):
        return Revision("first")
    key = _keys(c)
    if c.has("redo") or key == "redo":
        return Revision("redo", _steps(c))
    if c.has("undo") or key == "undo":
        return Revision("undo", _steps(c))
    return None


def _route(c: Clause) -> Answer | None:
    for concept, text in ROUTES:
        if c.has(concept):
            return Answer(text)
    return None


_ASKING = frozenset(
    {"what", "what's", "whats", "how", "which", "where", "when", "who", "is", "are", "does", "do"}
)


_EDIT_CONCEPTS = frozenset(
    {
        "add",
        "remove",
        "change",
        "move",
        "shorten",
        "lengthen",
        "swap",
        "split",
        "duplicate",
        "mute",
        "lower",
        "raise",
        "speedup",
        "slowdown",
        "reorder",
        "rename",
        "fade",
        "aspect",
    }
)


def _info(c: Clause, view: View) -> Info | None:
    """ "how long is the video?", "what music is playing?", "what can you do?": facts, no change."""
    words = c.words
    if not words or words[0] not in _ASKING or c.quotes or c.has("undo", "redo", "first_version"):
        return None
    if words[0] in ("is", "are", "do", "does") and not c.source.rstrip().endswith(("?", "？")):
        return None  # "do a crossfade between clips 1 and 2" is an instruction
    if any(w != "do" and lx.concepts_of(w) & _EDIT_CONCEPTS for w in words[1:]):
        return None  # "do you think we could lose the voiceover?" is a request too
    if c.has_word("can", "could") and c.has_word("you", "i"):
        if c.has(*(k for k, _ in ROUTES)):
            return None  # "how do I export?" is answered by the route
        return Info(CAN_DO)
    if c.has(*(k for k, _ in ROUTES)) or any(w in lx.CLAUSE_VERBS for w in words[1:]):
        return None  # "how do I make it vertical?" is a request
    if not view.mains:
        return Info("")
    return Info(
        f"The video is {secs(view.end_ms)} long, {view.width}x{view.height}, with {len(view.mains)} clips."
    )


def _is_ai_request(c: Clause) -> bool:
    return c.has("ai") or (
        c.has_word("generate", "film", "shoot", "animate") and c.has_word("footage", "scene", "shots", "of")
    )


_LIST_MARKER = re.compile(r"(?m)^[ \t]*(?:\(?\d{1,2}[).:]|[-*•·]|\d{1,2}\.(?!\d))[ \t]+")


def _unlist(text: str) -> str:
    """A numbered or bulleted list ("1) make the intro 2s\n2) move ...") is one instruction per line."""
    if "\n" not in text or not _LIST_MARKER.search(text):
        return text
    lines = [_LIST_MARKER.sub("", line).strip() for line in text.splitlines()]
    return ". ".join(line.rstrip(".;") for line in lines if line)


_SIZE = re.compile(r"\b(\d{3,4})\s*[x×*]\s*(\d{3,4})(?:\s*(?:px|pixels?))?\b", re.IGNORECASE)


def _sizes(text: str) -> str:
    """A size in pixels ("1080 x 1080", "1920×1080px") is the canvas preset of its shape ("1:1")."""

    def preset(m: re.Match[str]) -> str:
        w, h = int(m.group(1)), int(m.group(2))
        for name, (pw, ph) in tl.CANVAS_PRESETS.items():
            if w * ph == h * pw:
                return name
        return m.group(0)

    return _SIZE.sub(preset, text)


def parse(message: str, draft: Draft | None, media: Sequence[MediaRef]) -> Outcome:
    text = _sizes(_unlist(message[:MAX_MESSAGE_CHARS]))
    toks = tokenize(text)
    whole = Clause(tuple(toks), text)
    if whole.is_empty:
        return Noop("The message was empty, so nothing changed. " + CAN_DO)
    view = make_view(draft, media)
    clauses = split_clauses(toks, text)

    revisions = [r for c in clauses if (r := _revision(c)) is not None]
    if revisions:
        if len(clauses) == 1:
            return revisions[0]
        return Answer(
            f'Let\'s do that in two steps: say "{_REVISION_WORDS[revisions[0].which]}" '
            "on its own first, then the next change. Nothing changed."
        )
    info = _info(whole, view)
    if info is not None:
        return info
    route = _route(whole)
    if route is not None and (len(clauses) == 1 or view.empty):
        return route

    if view.empty:
        if _is_ai_request(whole):
            uploads = [m.filename for m in media if m.kind in ("image", "video")]
            offer = (
                f' To use your uploads ({", ".join(uploads)}), say "make a video from these".'
                if uploads
                else ""
            )
            return Answer(AI_TEXT + offer)
        if (
            wants_generation(whole)
            or (media and whole.has("add", "use", "combine"))
            or _is_brief(whole, media)
        ):
            return _generate(whole, media)
        if any(rule.matches(c, view) for c in clauses for rule in RULES):
            return Answer(
                'There is no video yet. Describe the video to make, e.g. "make a 30-second promo '
                'from these images with the upbeat music".'
            )
        return Noop(NOOP_TEXT)

    if _starts_over(whole):
        return _generate(whole, media)
    return _edit_plan(clauses, view)


def _starts_over(whole: Clause) -> bool:
    """ "make a new video", "regenerate it from scratch", "make the video again": a new first draft.
    "make it landscape again" is an edit back to landscape, not a new video."""
    if whole.has_word("regenerate"):
        return True
    if not whole.has("generate"):
        return False
    if whole.has_word("scratch", "fresh") or (whole.has_word("new", "another") and whole.has("video")):
        return True
    edits = whole.has("aspect", "text", "title", "music", "voiceover", "transition", "motion", "fade")
    return (
        whole.has_word("again")
        and whole.has("video")
        and not (edits or whole.ratios or whole.of_kind(Kind.DUR))
    )


_BRIEF_VERBS_OK = frozenset(
    {"make", "show", "use", "put", "give", "set", "keep", "let", "start", "add", "include"}
)


def _is_brief(c: Clause, media: Sequence[MediaRef]) -> bool:
    """A brief without a verb ("15s vertical, front and side photos only", "title card 'Chapter 2', 4
    seconds"): which media, how long, which shape, and no verb of editing."""
    if set(c.words) & (lx.CLAUSE_VERBS - _BRIEF_VERBS_OK):
        return False
    names = {w for m in media if m.kind in ("image", "video") for w in name_words(m.filename)}
    signals = (
        bool(c.of_kind(Kind.DUR))
        or c.has("aspect")
        or bool(c.ratios)
        or c.has_word("card", "cards", "slate", "nomusic", "novoice", "silent", "pics", "photos", "images")
        or bool(set(c.words) & names)
    )
    return signals and not c.has("undo", "redo", "export", "credits", "status", "upload")


def _generate(whole: Clause, media: Sequence[MediaRef]) -> Generate | Question:
    spec = read_spec(whole, media)
    if not has_visuals(spec, media) and not card_words(spec):
        return Question(
            "Nothing is uploaded to show, and AI footage generation needs the NemoVideo cloud. What should "
            "the title card say (e.g. make a 10-second intro card that says 'Welcome to Acme'), or will you "
            "upload images or clips first?"
        )
    return Generate(spec)


_PRONOUNS = frozenset({"it", "them", "that", "this", "its", "their", "those"})
_NOUNS = ("music", "voiceover", "title", "text", "clip", "intro", "outro")
_KEEPS_PLACE = frozenset(
    {"trim_segment", "set_speed", "set_volume", "set_motion", "set_fade", "set_transition"}
)


def _carry(c: Clause, prev: Clause | None, prev_ops: Sequence[Op]) -> Clause:
    """ "…and make it bigger": a pronoun with no noun of its own means the previous clause's thing."""
    if prev is None or not set(c.words) & _PRONOUNS or c.has(*_NOUNS) or c.quotes or c.files:
        return c
    if c.has("aspect", "transition", "motion", "speedup", "slowdown") or c.ratios:
        return c  # "…and make it vertical": "it" is the video
    end = c.toks[-1].end
    concept = next((k for k in ("music", "voiceover", "title") if prev.has(k)), None)
    audio_verb = c.has("fade", "fade_in", "fade_out", "lower", "raise", "mute", "unmute")
    if (
        concept in ("music", "voiceover")
        and c.times.any_length is not None
        and not c.percents
        and not audio_verb
    ):
        return c  # "use the calm music, make it 20 seconds": the music's length follows the video
    if concept is not None:
        extra = [Tok(Kind.WORD, concept, end, end)]
    elif prev.quotes:
        extra = [Tok(Kind.WORD, "text", end, end), Tok(Kind.QUOTE, prev.quotes[-1], end, end)]
    else:
        target = _clip_in_focus(prev_ops)
        resized = any(o.name == "trim_segment" for o in prev_ops)
        if target is None or (resized and c.times.any_length is not None):
            return c  # "shorten the intro to 2s and make it 20 seconds": "it" is the video
        if target.index is not None:
            extra = [Tok(Kind.ORD, "", end, end, float(target.index)), Tok(Kind.WORD, "clip", end, end)]
        else:
            extra = [Tok(Kind.FILE, str(target.file), end, end)]
    return Clause(c.toks + tuple(extra), c.source)


# Words that say the pronoun is the text the last edit touched ("nudge it later", "make it stay up").
_TEXT_CUES = frozenset(
    {
        "later",
        "earlier",
        "sooner",
        "nudge",
        "shift",
        "push",
        "move",
        "come",
        "comes",
        "stay",
        "stays",
        "screen",
        "say",
        "says",
        "read",
        "reads",
        "wording",
        "words",
        "bigger",
        "smaller",
        "larger",
        "bold",
        "font",
        "top",
        "bottom",
        "center",
        "centre",
        "remove",
        "delete",
        "drop",
        "appear",
        "appears",
        "disappear",
        "fade",
        "fade_in",
        "fade_out",
        "change",
        "rename",
        "hide",
        "position",
        "size",
        "color",
        "colour",
        "up",
        "show",
        "visible",
        "longer",
        "shorter",
        "italic",
    }
    | set(lx.COLORS)
)
_CLIP_CUES = frozenset(
    {
        "move",
        "put",
        "to_end",
        "to_start",
        "remove",
        "delete",
        "drop",
        "duplicate",
        "copy",
        "swap",
        "place",
        "first",
        "last",
        "end",
        "start",
        "beginning",
        "mute",
        "unmute",
        "speedup",
        "slowdown",
        "split",
    }
)
_MEMORY = (
    ("one", "i", "just", "added"),
    ("one", "we", "just", "added"),
    ("one", "i", "added"),
    ("one", "you", "just", "added"),
    ("just", "added"),
    ("new", "one"),
    ("copy",),
    ("duplicate",),
    ("new", "text"),
    ("new", "caption"),
    ("that", "one"),
    ("latest", "one"),
)
_DEMONSTRATIVE = frozenset({"it", "that", "this", "them"})


def _memory_span(c: Clause) -> tuple[int, int] | None:
    """Where the clause refers to what the last edit touched ("the one I just added", "the copy")."""
    # ("one" is read as a number, and is the pronoun here)
    words = [
        t.norm if t.kind is Kind.WORD or (t.kind is Kind.NUM and t.norm == "one") else "" for t in c.toks
    ]
    for phrase in _MEMORY:
        n = len(phrase)
        for i in range(len(words) - n + 1):
            if tuple(words[i : i + n]) != phrase:
                continue
            if phrase in (("copy",), ("duplicate",)) and not (i and words[i - 1] in ("the", "that", "this")):
                continue  # "copy the intro" is the verb
            return (i - 1 if i and words[i - 1] in ("the", "that", "this") else i), i + n
    return None


def _focus_toks(view: View, at: int) -> list[Tok] | None:
    texts = view.focus_texts()
    if len(texts) == 1:
        return [Tok(Kind.WORD, "text", at, at), Tok(Kind.QUOTE, texts[0].text, at, at)]
    clips = view.focus_clips()
    if len(clips) == 1:
        return [Tok(Kind.ORD, "", at, at, float(clips[0])), Tok(Kind.WORD, "clip", at, at)]
    return None


def _recall(c: Clause, view: View) -> Clause | Question:
    """The first clause of a message may point at what the previous message touched (m.focus)."""
    span = _memory_span(c)
    toks = list(c.toks)
    if span is not None:
        start, end = span
        at = toks[start].start
        focus = _focus_toks(view, at)
        if focus is None:
            return c
        return Clause(tuple(toks[:start] + focus + toks[end:]), c.source)
    pronoun = next((i for i, t in enumerate(toks) if t.is_word(*_DEMONSTRATIVE)), None)
    if (
        pronoun is None
        or c.files
        or c.has("music", "voiceover", "aspect", "transition", "motion")
        or c.ratios
    ):
        return c
    if any(view.texts_matching(q) for q in c.quotes):
        return c
    words = set(c.words)
    nxt = toks[pronoun + 1] if pronoun + 1 < len(toks) else None
    noun = (
        nxt is not None
        and nxt.kind is Kind.WORD
        and bool(lx.concepts_of(nxt.norm) & {"text", "title", "clip"})
    )
    texts = view.focus_texts()
    if len(texts) == 1:
        if noun and nxt is not None and "clip" in lx.concepts_of(nxt.norm):
            return c
        cut = pronoun + 2 if noun else pronoun + 1
        if noun or words & _TEXT_CUES or c.quotes:
            at = toks[pronoun].start
            return Clause(tuple(toks[:pronoun] + (_focus_toks(view, at) or []) + toks[cut:]), c.source)
        length = c.times.any_length
        if length is not None and not main_refs(c, view):
            return Question(
                f'Which should be {secs(length)}: the text "{texts[0].text}" you just added, '
                "or the whole video?"
            )
        return c
    clips = view.focus_clips()
    if len(clips) == 1 and not c.has("text", "title") and words & _CLIP_CUES and not main_refs(c, view):
        if noun and nxt is not None and "clip" not in lx.concepts_of(nxt.norm):
            return c
        cut = pronoun + 2 if noun else pronoun + 1
        at = toks[pronoun].start
        return Clause(tuple(toks[:pronoun] + (_focus_toks(view, at) or []) + toks[cut:]), c.source)
    length = c.times.any_length
    if len(clips) == 1 and length is not None and not main_refs(c, view) and not c.has("text", "title"):
        # "put clip 3 first" then "now make it 2 seconds long": that clip, or the video?
        clip = view.mains[clips[0]]
        return Question(
            f"Which should be {secs(length)}: clip {clips[0] + 1} ({clip.name}), which the last change was "
            "about, or the whole video?"
        )
    return c


_VERB_FILLERS = frozenset(
    {"please", "pls", "plz", "can", "could", "would", "you", "u", "kindly", "just", "now", "then"}
)
_ACTED_ON = frozenset(
    {"the", "a", "an", "my", "this", "that", "these", "those", "all", "every", "it", "them", "each"}
)


def _unknown_verb(c: Clause, view: View) -> str | None:
    """The clause's action when it is a word the agent does not know ("freeze the last frame"): the
    first word after fillers, unknown, followed by what it acts on."""
    toks = [t for t in c.toks if t.kind is not Kind.PUNCT]
    i = 0
    while i < len(toks) and toks[i].is_word(*_VERB_FILLERS):
        i += 1
    if i + 1 >= len(toks) or toks[i].kind is not Kind.WORD or not toks[i + 1].is_word(*_ACTED_ON):
        return None
    rest = Clause(tuple(toks[i + 1 :]), c.source)
    if rest.has(*_ACTIONS) or rest.has_word(*lx.CLAUSE_VERBS, "up", "down", "off", "out"):
        return None  # "bump the voiceover down to 70%": the action is said after all
    return toks[i].norm if toks[i].norm in _unknown_words(Clause((toks[i],), c.source), view) else None


# concepts that name an action wherever they stand in a clause
_ACTIONS = (
    "lower",
    "raise",
    "remove",
    "mute",
    "unmute",
    "shorten",
    "lengthen",
    "move",
    "add",
    "change",
    "swap",
    "split",
    "duplicate",
    "speedup",
    "slowdown",
    "fade_in",
    "fade_out",
    "undo",
    "redo",
)


def _unknown_words(c: Clause, view: View) -> list[str]:
    """Content words of the clause that the vocabulary and the uploads' names do not know."""
    names = {w for m in view.media for w in name_words(m.filename)}
    return [
        w
        for w in c.words
        if w.isalpha() and len(w) > 2 and not lx.is_known(w) and w not in names and w.isascii()
    ]


def _clip_choices(view: View) -> str:
    return ", ".join(f"{i + 1}. {s.name} ({secs(s.st)}-{secs(s.st + s.d)})" for i, s in enumerate(view.mains))


def _clarify(c: Clause, view: View) -> str:
    """One focused question about a clause whose action is clear and whose target or amount is not."""
    clips = _clip_choices(view)
    if c.has("move"):
        if c.has("text", "title") and view.texts:
            return "which text should move, and to when (e.g. \"move 'Sale' to 8s\")"
        if c.has("clip") or not view.texts:
            return f"which clip should move, and where to: {clips}"
        return "should a clip or a text move, and where to"
    if c.has("shorten", "lengthen"):
        which = "shorter" if c.has("shorten") else "longer"
        return f"which clip should be {which}, and how long should it be: {clips}"
    if c.has("swap"):
        return f"which two clips should swap places: {clips}"
    if c.has("text", "title", "caption"):
        return "what should change about the text: its words, size, colour, position or timing"
    if c.has("remove"):
        return "what should I remove: a clip, a text, the music or the voiceover"
    return "what should change, and how"


def _ask(c: Clause, view: View, understood: Sequence[str]) -> Question:
    """The one question: about the unclear part; the clear parts wait for the answer."""
    part = c.text.replace("?", "").replace("？", "").strip()
    question = _clarify(c, view)
    if understood:
        done = "; ".join(f'"{u}"' for u in understood).replace("?", "")
        return Question(f'Nothing changed yet: I understood {done}. For "{part}", {question}?')
    return Question(f"{question[0].upper()}{question[1:]}?")


_ABILITY = ("add", "remove", "change", "make", "move", "shorten", "lengthen", "swap", "split", "duplicate")


_REPEATS = frozenset({"same", "too", "also", "likewise"})
_REPEATABLE = frozenset(
    {
        "trim_segment",
        "remove_segment",
        "duplicate_segment",
        "set_speed",
        "set_motion",
        "set_volume",
        "set_fade",
    }
)


def _repeat(c: Clause, view: View) -> list[Op] | None:
    """ "do the same for the last one", "and the one after it too": the last clip edit, on another clip."""
    words = c.words
    as_well = ("as", "well") in set(pairwise(words))
    if view.focus_op is None or not (set(words) & _REPEATS or as_well):
        return None
    name, args = view.focus_op
    if name not in _REPEATABLE or set(c.words) & (lx.CLAUSE_VERBS - {"do", "make", "let", "keep"}):
        return None
    ids = [s.id for s in view.mains]
    target: MainRef | None = None
    if c.has_word("after", "next", "following") and view.focus_next in ids:
        target = MainRef(index=ids.index(str(view.focus_next)))
    elif c.has_word("before", "previous", "preceding") and view.focus_prev in ids:
        target = MainRef(index=ids.index(str(view.focus_prev)))
    else:
        refs = [r for _, r in main_refs(c, view) if r.every is None]
        target = refs[0] if len(refs) == 1 else None
    if target is None:
        return None
    key = "targets" if name == "remove_segment" else "target"
    return [Op(name, {**dict(args), key: (target,) if key == "targets" else target}, c.text)]


_IN_ITS_PLACE = re.compile(r"\b(there|instead|in its place|in place of it|in their place)\b", re.IGNORECASE)


def _in_its_place(ops: list[Op]) -> list[Op]:
    """ "remove the text that says Lifestyle and add 'Everyday' there instead": one text's words change,
    where it was (a new text with no time of its own would cover the whole video)."""
    out: list[Op] = []
    for op in ops:
        prev = out[-1] if out else None
        if (
            prev is not None
            and prev.name == "remove_text"
            and op.name == "add_text"
            and _IN_ITS_PLACE.search(op.phrase)
            and not re.search(r"\d", op.phrase)
            and isinstance(prev.args.get("target"), TextRef)
            and not prev.args["target"].every
        ):
            out[-1] = Op("edit_text", {"target": prev.args["target"], "text": op.args["text"]}, op.phrase)
            continue
        out.append(op)
    return out


_CORRECTING = frozenset({"no", "nope", "actually", "rather", "instead", "sorry", "oops", "wait", "meant"})
_BACK_VERBS = {
    "swap_segments": ("swap", "switch"),
    "move_segment": ("move", "put"),
    "remove_segment": ("bring", "put", "restore", "add"),
    "remove_text": ("bring", "put", "restore", "add"),
    "remove_audio": ("bring", "put", "restore", "add"),
}


def _correction(c: Clause, view: View) -> Plan | Revision | None:
    """A follow-up that corrects the last edit: a new value for it ("no, white", "actually 40%",
    "longer, 25"), or the same edit taken back ("swap them back", "bring it back"). None: not one."""
    last = view.last_op
    if last is None:
        return None
    name, args = last
    words = set(c.words)
    if "back" in words and name in _BACK_VERBS and words & set(_BACK_VERBS[name]) and not c.of_kind(Kind.DUR):
        return Revision("undo")
    cue = bool(c.words) and c.words[0] in _CORRECTING
    if words & lx.CLAUSE_VERBS or not (cue or _value_only(c)):
        return None  # an instruction of its own ("make it 20 seconds" after a text asks which)
    if words & {"earlier", "later", "sooner", "before", "after", "by", "more", "less", "extra"}:
        return None  # "actually have it come in 5 seconds earlier": a change by an amount, read as usual
    if any(t.kind in (Kind.DUR, Kind.NUM) and _followed_by_comparative(c, i) for i, t in enumerate(c.toks)):
        return None  # "5 seconds longer" is an amount, "longer, 25" a new value
    colours = [w for w in c.words if w in lx.COLORS]
    # a bare number after a length or a time is seconds ("longer, 25", "no, at 9")
    seconds = [round(t.value) for t in c.of_kind(Kind.DUR)] or [
        round(t.value * 1000) for t in c.of_kind(Kind.NUM) if 0 < t.value <= 3600
    ]
    percents = c.percents
    aspect = next((p for p, names in lx.ASPECT_WORDS if words & names), None)
    texts = view.focus_texts()
    ops: list[Op] = []
    if name == "edit_text" and isinstance(args.get("style"), dict) and "color" in args["style"] and colours:
        style = {"color": lx.COLORS[colours[0]]}
        ops = [Op("edit_text", {"target": TextRef(contains=t.text), "style": style}, c.text) for t in texts]
    elif name in ("add_text", "edit_text") and ("st" in args or name == "add_text") and len(seconds) == 1:
        placed = words & {"at", "to", "in", "from"}
        if placed and len(texts) == 1 and not percents and not colours:  # "no, at 9 seconds": its start
            ops = [Op("edit_text", {"target": TextRef(contains=texts[0].text), "st": seconds[0]}, c.text)]
    elif name == "set_volume" and isinstance(args.get("target"), str) and len(percents) == 1:
        ops = [Op("set_volume", {"target": args["target"], "vol": percents[0], "factor": None}, c.text)]
    elif name == "set_total_duration" and len(seconds) == 1 and not percents:
        ops = [Op("set_total_duration", {"total_ms": seconds[0]}, c.text)]
    elif name == "trim_segment" and len(seconds) == 1 and len(view.focus_clips()) == 1 and not percents:
        target = MainRef(index=view.focus_clips()[0])
        ops = [Op("trim_segment", {"target": target, "d_ms": seconds[0], "change_ms": None}, c.text)]
    elif name == "set_canvas" and aspect is not None:
        ops = [Op("set_canvas", {"preset": aspect, "fit": None}, c.text)]
    return Plan(tuple(ops), ()) if ops else None


def _followed_by_comparative(c: Clause, i: int) -> bool:
    nxt = c.toks[i + 1] if i + 1 < len(c.toks) else None
    return nxt is not None and nxt.is_word("longer", "shorter", "louder", "quieter", "more", "less")


def _value_only(c: Clause) -> bool:
    """A clause that is a value and little else ("white", "longer, 25", "25%"): a follow-up's answer."""
    values = (
        len(c.of_kind(Kind.DUR))
        + len(c.of_kind(Kind.NUM))
        + len(c.percents)
        + sum(w in lx.COLORS for w in c.words)
    )
    rest = [w for w in c.words if w not in lx.COLORS and w not in _FOLLOW_UP_FILLERS]
    return values == 1 and not rest


_FOLLOW_UP_FILLERS = frozenset(
    {
        "longer",
        "shorter",
        "louder",
        "quieter",
        "make",
        "it",
        "that",
        "then",
        "please",
        "ok",
        "okay",
        "try",
        "a",
        "bit",
        "more",
        "less",
        "maybe",
        "like",
        "say",
        "to",
        "at",
        "in",
        "its",
        "the",
        "one",
    }
)


def _kept_clip(c: Clause, view: View) -> tuple[MainRef, int] | None:
    """ "keep the intro at 6", "leave the first clip as it is": one clip and the length it keeps (its
    own, or the one said), when the clause asks only that."""
    words = [w for w in c.words if w not in ("but", "and", "please", "just")]
    if not words or words[0] not in ("keep", "leave") or c.has("text", "title", "music", "voiceover"):
        return None
    if c.has_word("only", "just") or c.times.range_ is not None:
        return None  # "keep only 0:02-0:05 of the first clip" is a trim
    refs = [r for _, r in main_refs(c, view) if r.every is None]
    if len(refs) != 1:
        return None
    index = view.clip_index(refs[0])
    if index is None:
        return None
    said = c.times.any_length if c.times.any_length is not None else c.times.at
    return MainRef(index=index), said if said is not None else view.mains[index].d


def _keeping(ops: list[Op], kept: Sequence[tuple[Clause, MainRef, int]]) -> list[Op]:
    """A new total length keeps the clips the message kept or gave a length: each kept clip becomes a
    trim to its length, and the total goes after the message's last trim (which it then works around);
    everything else keeps its order."""
    first = next((i for i, o in enumerate(ops) if o.name == "set_total_duration"), None)
    if first is None:
        return ops
    trims = [Op("trim_segment", {"target": r, "d_ms": n, "change_ms": None}, c.text) for c, r, n in kept]
    out = [*ops[:first], *trims, *ops[first:]]
    last_trim = max((i for i, o in enumerate(out) if o.name == "trim_segment"), default=-1)
    totals = [o for i, o in enumerate(out) if o.name == "set_total_duration" and i < last_trim]
    if not totals:
        return out
    out = [o for o in out if not (o.name == "set_total_duration" and o in totals)]
    at = max(i for i, o in enumerate(out) if o.name == "trim_segment") + 1
    return [*out[:at], *totals, *out[at:]]


def _leaves_alone(c: Clause) -> bool:
    """ "keep the music", "leave the title as it is": a part of a message that asks for no change."""
    words = [w for w in c.words if w not in ("but", "and", "please", "just")]
    timed = c.of_kind(Kind.DUR) or c.of_kind(Kind.PCT) or c.quotes or c.files
    return bool(words) and words[0] in ("keep", "leave") and not timed and not c.has("aspect")


def _all_but(c: Clause, view: View) -> list[Op] | None:
    """ "delete every caption except the first one", "remove all the photos but the last two": the
    removals of everything but what is named (None: not such a clause)."""
    at = next((i for i, t in enumerate(c.toks) if t.is_word("except", "excluding", "besides")), None)
    if at is None or at == 0:
        return None
    main, spared = Clause(c.toks[:at], c.source), Clause(c.toks[at + 1 :], c.source)
    if not main.has("remove") or not (main.has_word("all", "every", "each") or _plural(main)):
        return None
    if main.has("text", "title", "caption"):
        items: Sequence[object] = view.texts_sorted()
    elif main.has("clip") or main.has_word("photos", "pictures", "images", "shots", "clips"):
        items = view.mains
    else:
        return None
    keep = _named_items(spared, view, items)
    if keep is None:
        return None
    if not main.has("text", "title", "caption"):
        gone = tuple(MainRef(index=i) for i in range(len(items)) if i not in keep)
        return [Op("remove_segment", {"targets": gone}, c.text)] if gone else []
    texts = [t for k, t in enumerate(view.texts_sorted()) if k not in keep]
    return [Op("remove_text", {"target": TextRef(contains=t.text)}, c.text) for t in texts]


def _plural(c: Clause) -> bool:
    return c.has_word(
        "captions", "texts", "titles", "photos", "pictures", "images", "shots", "clips", "subtitles"
    )


def _named_items(spared: Clause, view: View, items: Sequence[object]) -> set[int] | None:
    """Positions in ``items`` that ``spared`` names: by ordinal ("the first one", "the last two") or,
    for texts, by their words; None when it names none of them."""
    n = len(items)
    toks = spared.toks
    for i, t in enumerate(toks):
        if t.kind is Kind.ORD:
            count = 1
            nxt = toks[i + 1] if i + 1 < len(toks) else None
            if nxt is not None and nxt.kind is Kind.NUM and 1 <= nxt.value <= n:
                count = int(nxt.value)  # "the last two"
            picked = {k + n if k < 0 else k for k in ordinal_run(int(t.value), count)} & set(range(n))
            return picked or None
    if spared.source and items and isinstance(items[0], TextInfo):
        words = [
            w for w in spared.words if w not in ("the", "one", "ones", "that", "says", "caption", "text")
        ]
        said = " ".join(spared.quotes) or " ".join(words)
        hits = {k for k, t in enumerate(view.texts_sorted()) if said and said.lower() in t.text.lower()}
        return hits or None
    return None


def _except(c: Clause) -> Clause:
    """ "mute everything except the voiceover", "remove all the text except the title": the part after
    "except" names what to leave alone, so the instruction applies to the rest."""
    at = next((i for i, t in enumerate(c.toks) if t.is_word("except", "excluding", "besides")), None)
    if at is None or at == 0:
        return c
    main, spared = Clause(c.toks[:at], c.source), Clause(c.toks[at + 1 :], c.source)
    end = c.toks[at - 1].end
    extra: list[Tok] = []
    if not main.has("music", "voiceover"):
        if spared.has("voiceover") and not spared.has("music"):
            extra.append(Tok(Kind.WORD, "music", end, end))
        elif spared.has("music") and not spared.has("voiceover"):
            extra.append(Tok(Kind.WORD, "voiceover", end, end))
    if main.has("text") and spared.has("title"):
        extra.append(Tok(Kind.WORD, "captions", end, end))
    return Clause(main.toks + tuple(extra), c.source)


def _clip_in_focus(ops: Sequence[Op]) -> MainRef | None:
    """The one clip the previous operations were about, where it is now (None: not one clip)."""
    if len(ops) == 1 and ops[0].name == "move_segment" and ops[0].args.get("to") is not None:
        return MainRef(index=int(ops[0].args["to"]))  # the moved clip, at its new place
    if not ops or not all(o.name in _KEEPS_PLACE for o in ops):
        return None
    targets = {o.args.get("target") for o in ops}
    target = next(iter(targets)) if len(targets) == 1 else None
    if isinstance(target, MainRef) and (target.index is not None or target.file is not None):
        return target
    return None


def _advance(view: View, ops: Sequence[Op]) -> View:
    """The view as later clauses of the same message see it: texts added, renamed or removed so far."""
    texts = list(view.texts)
    for o in ops:
        target = o.args.get("target")
        if o.name == "add_text":
            texts.append(
                TextInfo("", str(o.args["text"]), str(o.args["role"]), int(o.args["st"]), int(o.args["d_ms"]))
            )
        elif o.name in ("edit_text", "remove_text") and isinstance(target, TextRef) and target.contains:
            named = {t.text for t in view.texts_matching(target.contains)}
            if o.name == "remove_text":
                texts = [t for t in texts if t.text not in named]
            elif o.args.get("text"):
                texts = [replace(t, text=str(o.args["text"])) if t.text in named else t for t in texts]
    end, mains = view.end_ms, view.mains
    for o in ops:
        if o.name == "set_total_duration" and end > 0:  # later parts see the new length
            total = int(o.args["total_ms"])
            mains = tuple(replace(m, st=round(m.st * total / end), d=round(m.d * total / end)) for m in mains)
            end = total
    return replace(view, texts=tuple(texts), end_ms=end, mains=mains)


def _fragments(c: Clause) -> list[Clause]:
    """Cut a clause at "," / "and" / "plus", and before "with <music>"; verbless parts borrow its verb."""
    parts: list[list[Tok]] = [[]]
    for i, t in enumerate(c.toks):
        nxt = c.toks[i + 1 : i + 4]
        music_next = any(x.kind is Kind.WORD and lx.concepts_of(x.norm) & {"music", "voiceover"} for x in nxt)
        listed = (
            t.is_word("and")
            and 0 < i < len(c.toks) - 1
            and c.toks[i - 1].kind is Kind.ORD
            and (
                c.toks[i + 1].kind is Kind.ORD
                or (c.toks[i + 1].is_word("the") and i + 2 < len(c.toks) and c.toks[i + 2].kind is Kind.ORD)
            )
        )  # "the second and third captions": one list of things, not two instructions
        if (t.kind is Kind.PUNCT and t.norm == ",") or (
            t.is_word("and", "plus") and not joins_a_range(c, i) and not listed
        ):
            parts.append([])
            continue
        if t.is_word("with") and music_next and parts[-1]:
            parts.append([])
        parts[-1].append(t)
    parts = [p for p in parts if any(x.kind is not Kind.PUNCT for x in p)]
    verb = next((t for t in c.toks if t.kind is Kind.WORD and t.norm in lx.CLAUSE_VERBS), None)
    out: list[Clause] = []
    for p in parts:
        verbless = not any(x.kind is Kind.WORD and x.norm in lx.CLAUSE_VERBS for x in p)
        if verb is not None and verbless and p[0].start > verb.start:
            # a part after the verb shares it ("make it 15 seconds, vertical"); one before it does not
            # ("the first clip is boring, cut it to 2 seconds" is one instruction about that clip)
            p = [replace(verb, start=p[0].start, end=p[0].start), *p]
        out.append(Clause(tuple(p), c.source))
    return out


def _refine(c: Clause, view: View) -> list[Clause]:
    """ "Make it 15 seconds, vertical, with the calm music": one clause, three instructions.

    The clause is cut at its conjunctions only when every part is understood on its own and the
    parts are different instructions; otherwise ("swap clips 1 and 2", "make the text red and
    bold", "add 'A' and 'B' at 5s") it stays whole.
    """
    parts = _fragments(c)
    if len(parts) < 2:
        return [c]
    names = []
    placed = 0  # parts that each move their own clip to their own place
    for p in parts:
        found = match(p, view)
        if found is None or not isinstance(found[1], list):
            return [c]
        names.append(found[0].name)
        moves = [o for o in found[1] if o.name == "move_segment"]
        placed += len(moves) == 1 == len(found[1]) and len(main_refs(p, view)) == 1
    if placed == len(parts):
        return parts  # "put the front photo last and the lifestyle 2 photo first": two moves
    return parts if len(set(names)) == len(names) else [c]


def _edit_plan(clauses: Sequence[Clause], view: View) -> Outcome:
    ops: list[Op] = []
    notes: list[str] = []
    understood: list[str] = []
    prev: Clause | None = None
    prev_ops: list[Op] = []
    kept: list[tuple[Clause, MainRef, int]] = []
    shown = view  # the draft as the user saw it when writing: what "keep the intro" keeps
    for raw in [part for whole in clauses for part in _refine(whole, view)]:
        c = _carry(_except(raw), prev, prev_ops)
        if prev is None and len(clauses) == 1 and (fixed := _correction(c, view)) is not None:
            return fixed  # "no, white", "longer, 25", "swap them back": the last edit, corrected
        if prev is None and (again := _repeat(c, view)) is not None:
            ops += again
            understood.append(c.text)
            prev, prev_ops = raw, again
            continue
        if prev is None:
            recalled = _recall(c, view)
            if isinstance(recalled, Question):
                return recalled
            c = recalled
        if (spare := _all_but(raw, view)) is not None:
            ops += spare
            understood.append(raw.text)
            view = _advance(view, spare)
            prev, prev_ops = raw, spare
            continue
        if (verb := _unknown_verb(c, view)) is not None:
            # "freeze the last frame for 2 seconds": a rule could read the rest, not the action itself
            done = "; ".join(f'"{u}"' for u in understood)
            but = f"I understood {done} but can't" if understood else "I can't"
            return Answer(f'{but} "{verb}" with the local engine, so nothing changed. ' + CAN_DO)
        if (keep := _kept_clip(c, shown)) is not None:
            kept.append((c, *keep))  # "…but keep the intro at 6": a total length works around it
            continue
        if _leaves_alone(c):
            continue  # "…but keep the voiceover": nothing to do for that part
        found = match(c, view)
        if found is None:
            if not understood and len(clauses) == 1:
                if c.has("praise") and not c.has("add", "generate", "change", "make", "remove"):
                    return Noop(
                        "Glad you like it. Tell me what to change next, or export it with the export tool."
                    )
                if c.has(*_ABILITY) and not _unknown_words(c, view) and not _is_ai_request(c):
                    return _ask(c, view, ())  # "shorten the shot", "shift that a bit"
                if _is_ai_request(c) or c.has("add", "generate", "change", "make", "use", "remove", "move"):
                    return Answer(f'I can\'t do "{c.text}" with the local engine. ' + CAN_DO)
                return Noop(NOOP_TEXT)
            asks = c.has("add", "remove", "change", "make", "move", "generate", "use")
            if asks or (c.has(*_NOUNS, "transition", "motion") and not c.has("praise")):
                if not _unknown_words(c, view) and not _is_ai_request(c):
                    return _ask(c, view, understood)
                done = "; ".join(f'"{u}"' for u in understood) or "the rest"
                return Answer(f'I understood {done} but not "{c.text}", so nothing changed. ' + CAN_DO)
            if (route := _route(c)) is not None:
                notes.append(route.text)  # "…and export it": the export is the export tool's
            continue  # a tail with no instruction in it ("please", "thanks")
        _intent, fill = found
        if isinstance(fill, Question | Answer):
            if isinstance(fill, Answer) and len(clauses) > 1:
                return Answer(f'"{c.text}" can\'t be done: {fill.text} Nothing changed.')
            return fill
        ops += fill
        understood.append(c.text)
        view = _advance(view, fill)
        prev, prev_ops = raw, fill
        if len(ops) > MAX_OPERATIONS:
            return Answer(
                f"That is more than {MAX_OPERATIONS} changes in one message, so nothing changed; "
                "send them in a few smaller messages."
            )
    ops = _in_its_place(_keeping(ops, kept))
    if not ops:
        return Answer(" ".join(notes)) if notes else Noop(NOOP_TEXT)
    return Plan(tuple(ops), tuple(notes))
