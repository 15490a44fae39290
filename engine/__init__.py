"""The local engine: the NemoVideo API offline (timeline, conversation, renderer, storage, server).

The engine never imports ``handlers``; it shares no Python code with the client, only ``schemas/``.
"""
