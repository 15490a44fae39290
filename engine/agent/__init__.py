"""The local engine's conversation: what people say to a video editor → timeline operations.

``respond(message, draft, media, history)`` is the whole interface (docs/contracts.md). Inside:

- ``_lexer``   text → tokens (numbers and number words, times, quotes, ordinals, files, ...)
- ``_lexicon`` every word the agent knows (English, Chinese mapped onto it, typo tolerance)
- ``_view``    a read-only digest of the draft and the uploads (what slots are filled from)
- ``_plan``    what the core decides: operations with symbolic targets, or a question / answer
- ``_clause``  tokens → clauses (split on "and"/","/"then" only before a new verb) and time slots
- ``_intents`` the intent table: trigger concepts → slot filling → operations / question / answer
- ``_refs``    slot fillers for targets (which clip, which text, which upload, where to)
- ``_generate`` a description + uploads → a first draft's plan
- ``_parse``   the pure core tying these together (message → Outcome)
- ``_apply``   operations → engine.timeline calls (targets resolved as each runs, all or nothing)
- ``_respond`` the Turn: stages (raw_cut + music_and_title, edit, revision), reply, cost
"""

from engine.agent._respond import COSTS, respond
from engine.agent._types import Draft, History, MediaRef, Stage, ToolStep, Turn

__all__ = ["COSTS", "Draft", "History", "MediaRef", "Stage", "ToolStep", "Turn", "respond"]
