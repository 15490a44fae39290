"""The local engine's conversation: what people say to a video editor → timeline operations.

``respond(message, draft, media, history)`` is the whole interface (docs/contracts.md). Inside:

- ``_lexer``   text → tokens (numbers and number words, times, quotes, ordinals, files, ...)
- ``_lexicon`` every word the agent knows (English, and Chinese mapped onto it)
- ``_clause``  tokens → clauses (split on "and"/","/"then" only before a new verb) and time slots
- ``_intents`` the intent table: trigger concepts → slot filling → operations / question / answer
- ``_refs``    slot fillers for targets (which clip, which text, which upload, where to)
- ``_generate`` a description + uploads → a first draft's plan
- ``_parse``   the pure core tying these together (message → Outcome)
- ``_apply``   operations → engine.timeline calls; ``_respond`` → stages, reply, cost
"""

from engine.agent._respond import COSTS, respond
from engine.agent._types import Draft, History, MediaRef, Stage, ToolStep, Turn

__all__ = ["COSTS", "Draft", "History", "MediaRef", "Stage", "ToolStep", "Turn", "respond"]
