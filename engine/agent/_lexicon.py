"""The vocabulary: every word the agent understands, in one place.

Extending the agent's English usually means adding a word to a set here; extending its Chinese
means adding an entry to ``CJK_WORDS`` (Chinese words are translated to these English words by the
tokenizer, so both languages share one grammar).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

MEDIA_EXTENSIONS = frozenset(
    [
        "mp4",
        "mov",
        "avi",
        "webm",
        "mkv",
        "m4v",
        "jpg",
        "jpeg",
        "png",
        "gif",
        "webp",
        "bmp",
        "heic",
        "mp3",
        "wav",
        "m4a",
        "aac",
        "ogg",
        "flac",
        "opus",
    ]
)
AUDIO_EXTENSIONS = frozenset(["mp3", "wav", "m4a", "aac", "ogg", "flac", "opus"])
FORMAT_WORDS = frozenset(["mp4", "mp3", "m4a", "m4v", "4k", "1080p", "720p", "480p"])
ASPECT_RATIOS = frozenset(
    {(16.0, 9.0), (9.0, 16.0), (1.0, 1.0), (4.0, 5.0), (4.0, 3.0), (3.0, 4.0), (21.0, 9.0)}
)

UNITS = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
}
TENS = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fourty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}

TIME_UNITS = {
    **dict.fromkeys(
        [
            "s",
            "sec",
            "secs",
            "sek",
            "second",
            "seconds",
            "seg",
            "segs",
            "秒",
        ],
        1000.0,
    ),
    **dict.fromkeys(["ms", "msec", "msecs", "millisecond", "milliseconds", "毫秒"], 1.0),
    **dict.fromkeys(["m", "min", "mins", "minute", "minutes", "分钟"], 60000.0),
}

ORDINAL_WORDS = {
    "first": 0,
    "second": 1,
    "third": 2,
    "fourth": 3,
    "fifth": 4,
    "sixth": 5,
    "seventh": 6,
    "eighth": 7,
    "ninth": 8,
    "tenth": 9,
    "eleventh": 10,
    "twelfth": 11,
    "thirteenth": 12,
    "fourteenth": 13,
    "fifteenth": 14,
    "sixteenth": 15,
    "seventeenth": 16,
    "eighteenth": 17,
    "nineteenth": 18,
    "twentieth": 19,
    "last": -1,
    "final": -1,
    "penultimate": -2,
    "second-last": -2,
    "second-to-last": -2,
    "next-to-last": -2,
}

# Multi-word phrases → one word (the norm the grammar sees). Longest match wins.
PHRASES: dict[tuple[str, ...], str] = {
    ("background", "music"): "music",
    ("background", "track"): "music",
    ("music", "track"): "music",
    ("backing", "track"): "music",
    ("text", "overlay"): "overlay",
    ("text", "overlays"): "overlay",
    ("on-screen", "text"): "overlay",
    ("on", "screen", "text"): "overlay",
    ("voice", "over"): "voiceover",
    ("voice-over",): "voiceover",
    ("slow", "motion"): "slowmo",
    ("slow-motion",): "slowmo",
    ("slow", "mo"): "slowmo",
    ("slow-mo",): "slowmo",
    ("speed", "up"): "speedup",
    ("sped", "up"): "speedup",
    ("slow", "down"): "slowdown",
    ("slow", "it", "down"): "slowdown it",
    ("slow", "them", "down"): "slowdown them",
    ("speed", "it", "up"): "speedup it",
    ("speed", "them", "up"): "speedup them",
    ("turn", "it", "off"): "mute it",
    ("turn", "it", "on"): "unmute it",
    ("slowed", "down"): "slowdown",
    ("turn", "down"): "lower",
    ("turn", "it", "down"): "lower it",
    ("turn", "up"): "raise",
    ("turn", "it", "up"): "raise it",
    ("get", "rid", "of"): "remove",
    ("turn", "off"): "mute",
    ("switch", "off"): "mute",
    ("turn", "on"): "unmute",
    ("take", "out"): "remove",
    ("take", "off"): "remove",
    ("go", "back", "to", "the", "first", "version"): "first_version",
    ("go", "back", "to", "the", "original"): "first_version",
    ("go", "back", "to", "the", "original", "version"): "first_version",
    ("back", "to", "the", "first", "version"): "first_version",
    ("revert", "to", "the", "first", "version"): "first_version",
    ("the", "first", "version"): "first_version",
    ("the", "original", "version"): "first_version",
    ("first", "version"): "first_version",
    ("original", "version"): "first_version",
    ("start", "over"): "first_version",
    ("go", "back"): "undo",
    ("take", "that", "back"): "undo",
    ("undo", "that"): "undo",
    ("aspect", "ratio"): "aspect",
    ("lower", "third"): "lower_third",
    ("upper", "third"): "upper_third",
    ("top", "left"): "top_left",
    ("top", "right"): "top_right",
    ("bottom", "left"): "bottom_left",
    ("bottom", "right"): "bottom_right",
    ("upper", "left"): "top_left",
    ("upper", "right"): "top_right",
    ("lower", "left"): "bottom_left",
    ("lower", "right"): "bottom_right",
    ("quick", "cuts"): "quick_cuts",
    ("fast", "cuts"): "quick_cuts",
    ("hard", "cuts"): "quick_cuts",
    ("jump", "cuts"): "quick_cuts",
    ("hard", "cut"): "quick_cuts",
    ("jump", "cut"): "quick_cuts",
    ("straight", "cut"): "quick_cuts",
    ("quick", "cut"): "quick_cuts",
    ("straight", "cuts"): "quick_cuts",
    ("shorter", "cuts"): "quick_cuts",
    ("quicker", "cuts"): "quick_cuts",
    ("fade", "in"): "fade_in",
    ("fades", "in"): "fade_in",
    ("fade-in",): "fade_in",
    ("fade", "out"): "fade_out",
    ("fades", "out"): "fade_out",
    ("fade-out",): "fade_out",
    ("fade", "to", "black"): "fade_out",
    ("fade", "from", "black"): "fade_in",
    ("ken", "burns"): "zoom",
    ("put", "together"): "make",
    ("instagram", "post"): "square",
    ("instagram", "feed"): "square",
    ("instagram", "reels"): "vertical",
    ("instagram", "reel"): "vertical",
    ("instagram", "story"): "vertical",
    ("instagram", "stories"): "vertical",
    ("youtube", "shorts"): "vertical",
    ("youtube", "short"): "vertical",
    ("portrait", "post"): "four_five",
    ("show", "tracks"): "status",
    ("show", "the", "tracks"): "status",
    ("show", "me", "the", "timeline"): "status",
    ("send", "me", "the", "video"): "export",
    ("how", "many", "credits"): "credits",
    ("no", "motion"): "static",
    ("no", "zoom"): "static",
    ("no", "movement"): "static",
    ("no", "transitions"): "notransition",
    ("no", "transition"): "notransition",
    ("no", "music"): "nomusic",
    ("without", "music"): "nomusic",
    ("no", "voiceover"): "novoice",
    ("without", "voiceover"): "novoice",
    ("no", "text"): "notext",
    ("without", "text"): "notext",
    ("sound", "track"): "music",
    ("lo", "fi"): "lofi",
    ("lo-fi",): "lofi",
    ("at", "the", "end"): "at_end",
    ("to", "the", "end"): "to_end",
    ("at", "the", "start"): "at_start",
    ("at", "the", "beginning"): "at_start",
    ("to", "the", "start"): "to_start",
    ("to", "the", "beginning"): "to_start",
    ("to", "the", "front"): "to_start",
    ("at", "the", "very", "end"): "at_end",
    ("all", "the", "way", "to", "the", "end"): "to_end",
    ("in", "reverse", "order"): "reverse",
    ("reverse", "order"): "reverse",
    ("half", "speed"): "slowmo",
    ("double", "speed"): "double_speed",
    ("normal", "speed"): "normal_speed",
    ("in", "two"): "halves",
    ("in", "half"): "halves",
    ("into", "two"): "halves",
    ("into", "halves"): "halves",
    ("apart", "from"): "except",
    ("other", "than"): "except",
    ("but", "not"): "except",
    ("except", "for"): "except",
    ("original", "audio"): "clip_audio",
    ("original", "sound"): "clip_audio",
    ("clip", "audio"): "clip_audio",
    ("clip", "sound"): "clip_audio",
    ("clips", "audio"): "clip_audio",
    ("clips", "sound"): "clip_audio",
    ("camera", "audio"): "clip_audio",
    ("own", "sound"): "clip_audio",
    ("own", "audio"): "clip_audio",
    ("whole", "video"): "video",
    ("entire", "video"): "video",
    ("whole", "thing"): "video",
    ("the", "video"): "video",
    ("font", "size"): "font",
    ("text", "size"): "font",
}
MAX_PHRASE = max(len(k) for k in PHRASES)

# Spanish → the English words of the vocabulary, the same translate-to-one-core approach as Chinese:
# a message with a Spanish marker word is read word by word (phrases first) into English, then parsed
# by the one grammar. Values may be several words, or "" (a word with no meaning here).
ES_PHRASES: dict[tuple[str, ...], str] = {
    ("voz", "en", "off"): "voiceover",
    ("música", "de", "fondo"): "music",
    ("musica", "de", "fondo"): "music",
    ("en", "el", "segundo"): "at",
    ("a", "los"): "at",
    ("a", "la", "mitad"): "halfway",
    ("por", "la", "mitad"): "halfway",
    ("al", "final"): "at_end",
    ("al", "principio"): "at_start",
    ("al", "inicio"): "at_start",
    ("por", "favor"): "please",
    ("más", "corto"): "shorter",
    ("más", "largo"): "longer",
    ("más", "alto"): "louder",
    ("más", "bajo"): "quieter",
}
ES_WORDS: dict[str, str] = {
    "elimina": "remove",
    "eliminar": "remove",
    "elimínala": "remove it",
    "quita": "remove",
    "quitar": "remove",
    "quítale": "remove",
    "borra": "remove",
    "borrar": "remove",
    "saca": "remove",
    "sacar": "remove",
    "acorta": "shorten",
    "acortar": "shorten",
    "recorta": "trim",
    "recortar": "trim",
    "alarga": "lengthen",
    "alargar": "lengthen",
    "agrega": "add",
    "agregar": "add",
    "añade": "add",
    "añadir": "add",
    "anade": "add",
    "pon": "set",
    "poner": "set",
    "ponlo": "set it",
    "ponla": "set it",
    "coloca": "put",
    "colocar": "put",
    "mete": "add",
    "muestra": "show",
    "mostrar": "show",
    "hazlo": "make it",
    "hazla": "make it",
    "haz": "make",
    "hacer": "make",
    "cambia": "change",
    "cambiar": "change",
    "mueve": "move",
    "mover": "move",
    "intercambia": "swap",
    "duplica": "duplicate",
    "divide": "split",
    "deshaz": "undo",
    "deshacer": "undo",
    "rehaz": "redo",
    "rehacer": "redo",
    "baja": "lower",
    "bajar": "lower",
    "sube": "raise",
    "subir": "raise",
    "silencia": "mute",
    "usa": "use",
    "usar": "use",
    "deja": "make",
    "música": "music",
    "musica": "music",
    "canción": "song",
    "voz": "voice",
    "narración": "narration",
    "locución": "voiceover",
    "texto": "text",
    "título": "title",
    "titulo": "title",
    "subtítulo": "caption",
    "subtitulo": "caption",
    "foto": "photo",
    "fotos": "photos",
    "imagen": "image",
    "imágenes": "images",
    "imagenes": "images",
    "escena": "scene",
    "toma": "shot",
    "vídeo": "video",
    "duración": "duration",
    "volumen": "volume",
    "transición": "transition",
    "transiciones": "transitions",
    "segundos": "seconds",
    "segundo": "second",
    "minutos": "minutes",
    "cuadrado": "square",
    "cuadrada": "square",
    "apaisado": "landscape",
    "primeros": "first",
    "primeras": "first",
    "primer": "first",
    "primero": "first",
    "primera": "first",
    "últimos": "last",
    "últimas": "last",
    "ultimos": "last",
    "último": "last",
    "última": "last",
    "ultimo": "last",
    "ultima": "last",
    "penúltima": "penultimate",
    "penúltimo": "penultimate",
    "tercera": "third",
    "tercero": "third",
    "tercer": "third",
    "cuarta": "fourth",
    "cuarto": "fourth",
    "quinta": "fifth",
    "quinto": "fifth",
    "mitad": "halfway",
    "principio": "start",
    "inicio": "start",
    "final": "end",
    "durante": "during",
    "desde": "from",
    "hasta": "until",
    "al": "to",
    "el": "the",
    "la": "the",
    "los": "the",
    "las": "the",
    "lo": "it",
    "de": "of",
    "del": "of the",
    "y": "and",
    "con": "with",
    "sin": "without",
    "en": "in",
    "porfa": "please",
    "tranquila": "calm",
    "tranquilo": "calm",
    "alegre": "upbeat",
    "más": "more",
    "menos": "less",
    "segunda": "second",
    "dos": "two",
    "tres": "three",
    "cuatro": "four",
    "cinco": "five",
    "seis": "six",
    "siete": "seven",
    "ocho": "eight",
    "nueve": "nine",
    "diez": "ten",
    "veinte": "twenty",
    "treinta": "thirty",
    "sí": "",
    "a": "to",
    "un": "a",
    "una": "a",
    "otra": "another",
    "otro": "another",
    "vez": "time",
}
# Words that only Spanish has: one of them makes a message Spanish ("a", "con", "final"... do not).
ENGLISH_LOOKALIKES = frozenset({"me", "sin", "sube", "menos", "lo"})
_ES_SHARED = frozenset(
    {"a", "con", "final", "total", "video", "de", "y", "en", "al", "un", "dos", "divide", "vez"}
)
ES_MARKERS = frozenset(
    w
    for w in (*ES_WORDS, *(k for p in ES_PHRASES for k in p))
    if w not in _ES_SHARED and w not in ENGLISH_LOOKALIKES
)

# Chinese words → English words of the vocabulary (the tokenizer looks up the longest match).
CJK_WORDS = {
    "第": "第",
    "秒": "秒",
    "分钟": "分钟",
    "毫秒": "毫秒",
    "秒钟": "秒",
    "倍": "x",
    "抖音": "tiktok",
    "快手": "tiktok",
    "视频号": "vertical",
    "B站": "youtube",
    "油管": "youtube",
    "每": "every",
    "每个": "every",
    "每张": "every image",
    "每段": "every clip",
    "所有": "all",
    "全部": "all",
    "都": "all",
    "舒缓": "calm",
    "轻松": "relaxing",
    "安静": "calm",
    "平静": "calm",
    "优雅": "elegant",
    "欢快": "upbeat",
    "动感": "energetic",
    "活泼": "upbeat",
    "快节奏": "energetic",
    "慢节奏": "calm",
    "激昂": "epic",
    "删除": "remove",
    "删掉": "remove",
    "去掉": "remove",
    "移除": "remove",
    "去除": "remove",
    "删": "remove",
    "不要": "remove",
    "添加": "add",
    "加上": "add",
    "增加": "add",
    "加入": "add",
    "插入": "add",
    "加": "add",
    "放": "put",
    "显示": "show",
    "文字": "text",
    "文本": "text",
    "字幕": "caption",
    "标题": "title",
    "片段": "clip",
    "视频片段": "clip",
    "镜头": "clip",
    "图片": "image",
    "照片": "photo",
    "段": "clip",
    "张": "image",
    "背景音乐": "music",
    "配乐": "music",
    "音乐": "music",
    "歌": "music",
    "旁白": "voiceover",
    "配音": "voiceover",
    "解说": "voiceover",
    "音量": "volume",
    "声音": "sound",
    "竖屏": "vertical",
    "竖版": "vertical",
    "竖屏的": "vertical",
    "横屏": "landscape",
    "横版": "landscape",
    "方形": "square",
    "正方形": "square",
    "改成": "change to",
    "改为": "change to",
    "换成": "change to",
    "变成": "change to",
    "调成": "set to",
    "调到": "set to",
    "设为": "set to",
    "设置为": "set to",
    "设置": "set",
    "改": "change",
    "换": "swap",
    "替换": "replace",
    "更换": "replace",
    "移动到": "move to",
    "移到": "move to",
    "挪到": "move to",
    "移动": "move",
    "放到": "move to",
    "交换": "swap",
    "互换": "swap",
    "调换": "swap",
    "复制": "duplicate",
    "重复": "duplicate",
    "分割": "split",
    "拆分": "split",
    "切分": "split",
    "切开": "split",
    "缩短": "shorten",
    "剪短": "shorten",
    "延长": "lengthen",
    "加长": "lengthen",
    "静音": "mute",
    "撤销": "undo",
    "撤回": "undo",
    "重做": "redo",
    "恢复": "redo",
    "导出": "export",
    "下载": "download",
    "上传": "upload",
    "状态": "status",
    "积分": "credits",
    "余额": "balance",
    "加速": "speedup",
    "快进": "speedup",
    "减速": "slowdown",
    "慢动作": "slowmo",
    "慢放": "slowmo",
    "淡入": "fade_in",
    "淡出": "fade_out",
    "转场": "transition",
    "过渡": "transition",
    "开头": "intro",
    "片头": "intro",
    "结尾": "outro",
    "片尾": "outro",
    "最后一个": "last",
    "最后": "last",
    "播放到一半": "halfway",
    "到一半": "halfway",
    "一半的时候": "halfway",
    "前": "first",
    "到": "to",
    "至": "to",
    "从": "from",
    "持续": "for",
    "在": "at",
    "之后": "after",
    "视频": "video",
    "整个视频": "video",
    "时长": "duration",
    "长度": "duration",
    "生成": "make",
    "制作": "make",
    "做一个": "make",
    "做个": "make",
    "创建": "make",
    "顶部": "top",
    "上方": "top",
    "顶端": "top",
    "底部": "bottom",
    "下方": "bottom",
    "中间": "center",
    "居中": "center",
    "放大": "bigger",
    "变大": "bigger",
    "大一点": "bigger",
    "更大": "bigger",
    "变小": "smaller",
    "小一点": "smaller",
    "缩小": "smaller",
    "加粗": "bold",
    "红色": "red",
    "白色": "white",
    "黄色": "yellow",
    "黑色": "black",
    "蓝色": "blue",
    "绿色": "green",
    "调低": "lower",
    "调小": "lower",
    "降低": "lower",
    "小声": "lower",
    "调高": "raise",
    "调大": "raise",
    "提高": "raise",
    "大声": "raise",
    "和": "and",
    "与": "and",
    "跟": "and",
    "然后": "then",
    "并且": "then",
    "接着": "then",
    "同时": "then",
    "再": "then",
    "更好": "better",
    "好看": "better",
    "优化": "better",
    "好一点": "better",
    "缩放": "zoom",
    "推镜": "zoom",
    "平移": "pan",
    "标题为": "titled",
    "名为": "titled",
    "叫": "titled",
    "重命名为": "rename to",
    "重命名": "rename",
}
_CJK_MAX = max(len(k) for k in CJK_WORDS)


def longest_cjk_word(s: str, i: int, j: int) -> tuple[str, str] | None:
    """The longest ``CJK_WORDS`` key at ``s[i:j]``'s start, with its English words."""
    for length in range(min(_CJK_MAX, j - i), 0, -1):
        key = s[i : i + length]
        if key in CJK_WORDS:
            return key, CJK_WORDS[key]
    return None


# ---------------------------------------------------------------------------------------------
# concepts: the grammar asks "does the clause have an ADD word?", never for a literal word


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


CONCEPTS: dict[str, frozenset[str]] = {
    # verbs
    "add": _words("add adding insert put place include overlay append show display stick throw drop-in"),
    "remove": _words("remove delete drop erase ditch eliminate omit lose scrap kill strip discard"),
    "cut": _words("cut chop"),
    "change": _words("change replace swap switch exchange use set edit update alter rename modify"),
    "swap": _words("swap switch exchange flip interchange trade"),
    "replace": _words("replace"),
    "use": _words("use pick choose apply"),
    "move": _words("move shift nudge put place bring push relocate reposition come comes go goes"),
    "duplicate": _words("duplicate copy repeat clone double"),
    "split": _words("split divide halves"),
    "shorten": _words("shorten shorter trim tighten reduce shrink cut chop"),
    "lengthen": _words("lengthen longer extend stretch prolong expand"),
    "make": _words("make set turn change keep have let render do"),
    "mute": _words("mute silence muted"),
    "unmute": _words("unmute unmuted"),
    "speedup": _words("speedup faster accelerate quicker double_speed"),
    "slowdown": _words("slowdown slowmo slower decelerate"),
    "fade_in": _words("fade_in"),
    "fade_out": _words("fade_out"),
    "fade": _words("fade fades fading"),
    "undo": _words("undo revert undone"),
    "redo": _words("redo"),
    "first_version": _words("first_version"),
    "rename": _words("rename retitle call name"),
    "reorder": _words("reorder rearrange order sort shuffle"),
    "reverse": _words("reverse reversed backwards"),
    "lower": _words("lower quieter softer decrease reduce down lower_volume duck"),
    "raise": _words("raise louder increase boost up amplify"),
    "generate": _words(
        "make create generate produce build combine assemble compile render edit cut put craft design stitch"
    ),
    "export": _words("export download"),
    "credits": _words("credits credit balance"),
    "status": _words("status state"),
    "upload": _words("upload uploading"),
    # nouns
    "clip": _words(
        "clip clips image images photo photos picture pictures pic pics shot shots scene scenes segment "
        "segments slide slides still stills frame footage one ones part parts"
    ),
    "intro": _words("intro opening beginning start"),
    "outro": _words("outro ending end closing"),
    "text": _words(
        "text texts overlay overlays caption captions subtitle subtitles words label labels "
        "lettering message writing sticker tagline slogan font"
    ),
    "title": _words("title titles heading headline"),
    "caption": _words("caption captions subtitle subtitles overlay overlays"),
    "music": _words("music song songs soundtrack tune bgm track tracks beat melody lofi"),
    "voiceover": _words("voiceover voiceovers narration narrator vo voice commentary speech"),
    "audio": _words("audio sound volume clip_audio"),
    "video": _words("video it everything whole total overall all movie film project slideshow promo montage"),
    "transition": _words(
        "transition transitions crossfade crossfades cross-fade cross-fades dissolve dissolves wipe wipes "
        "notransition quick_cuts"
    ),
    "motion": _words("motion zoom zooms zooming pan panning movement static ken animation"),
    "aspect": _words(
        "aspect ratio vertical portrait square landscape horizontal widescreen tiktok reels reel shorts "
        "story stories four_five orientation format canvas"
    ),
    "duration": _words("duration length long runtime"),
    "quality": _words(
        "better nicer improve improved polish polished cooler professional prettier fix enhance "
        "awesome good great amazing best perfect"
    ),
    "praise": _words(
        "thanks thank thx great good awesome amazing perfect love nice cool excellent wonderful fantastic"
    ),
    "ai": _words("ai dancing robot robots animate animated avatar 3d cgi dragon spaceship"),
    "fit": _words("letterbox letterboxed fit contain crop cover fill blur blurred"),
}


_WORD_CONCEPTS: dict[str, frozenset[str]] = {}
for _concept, _members in CONCEPTS.items():
    for _w in _members:
        _WORD_CONCEPTS[_w] = _WORD_CONCEPTS.get(_w, frozenset()) | {_concept}


def concepts_of(norm: str) -> frozenset[str]:
    """The concepts a word belongs to (empty for words the agent does not know)."""
    return _WORD_CONCEPTS.get(norm, frozenset())


NOUN_WORDS = CONCEPTS["clip"] | CONCEPTS["text"] | CONCEPTS["title"] | CONCEPTS["music"] | CONCEPTS["video"]

# Verbs that may start a new instruction after "and" / "," / "then" (the clause splitter).
CLAUSE_VERBS = _words(
    "add insert put place include remove delete drop erase ditch cut trim shorten lengthen extend make "
    "set change replace swap switch move shift nudge bring mute unmute split duplicate copy repeat fade_in "
    "fade_out fade undo redo rename reorder rearrange reverse use apply lower raise increase decrease "
    "reduce boost speedup slowdown show display get give turn keep let start kill lose ditch scrap erase "
    "eliminate omit discard insert append nudge push relocate reposition clone divide tighten shrink "
    "prolong stretch silence revert leave"
) | {
    "speedup",
    "slowdown",
    "lower",
    "raise",
    "remove",
    "first_version",
    "export",
    "status",
    "slow",
    "speed",
    "play",
}

COLORS = {
    "red": "#ff3b30",
    "white": "#ffffff",
    "black": "#000000",
    "yellow": "#ffd60a",
    "blue": "#0a84ff",
    "green": "#30d158",
    "orange": "#ff9f0a",
    "purple": "#bf5af2",
    "pink": "#ff375f",
    "gray": "#8e8e93",
    "grey": "#8e8e93",
    "gold": "#d4af37",
    "silver": "#c0c0c0",
    "navy": "#001f54",
    "teal": "#30b0c7",
    "cyan": "#32ade6",
    "magenta": "#ff2d95",
    "brown": "#a2845e",
}

POSITIONS = {
    "top": "top",
    "up": "top",
    "upper": "top",
    "bottom": "bottom",
    "down": "bottom",
    "lower": "bottom",
    "center": "center",
    "centre": "center",
    "middle": "center",
    "centered": "center",
    "lower_third": "lower_third",
    "upper_third": "upper_third",
    "top_left": "top_left",
    "top_right": "top_right",
    "bottom_left": "bottom_left",
    "bottom_right": "bottom_right",
}

# Canvas presets by the words that name them; checked in this order (reels before "instagram").
ASPECT_WORDS: tuple[tuple[str, frozenset[str]], ...] = (
    ("9:16", _words("vertical portrait tiktok reels reel shorts story stories 9:16 upright")),
    ("4:5", _words("four_five 4:5")),
    ("1:1", _words("square 1:1")),
    ("16:9", _words("landscape horizontal widescreen youtube 16:9 wide")),
)

MOTIONS = {
    "zoom": "zoom_in",
    "zoom_in": "zoom_in",
    "zoom_out": "zoom_out",
    "ken": "zoom_in",
    "pan": "pan_right",
    "static": "none",
}
TRANSITIONS = {
    "crossfade": "crossfade",
    "crossfades": "crossfade",
    "cross-fade": "crossfade",
    "cross-fades": "crossfade",
    "dissolve": "crossfade",
    "dissolves": "crossfade",
    "wipe": "wipe",
    "wipes": "wipe",
    "slide": "slide",
    "slides": "slide",
    "fade": "fade",
    "fades": "fade",
    "quick_cuts": "none",
    "notransition": "none",
    "cut": "none",
    "cuts": "none",
}

VOICE_NAME_HINTS = _words(
    "voice voiceover vo narration narrator speech speaking talk commentary 旁白 配音 解说"
)
MOOD_ENERGETIC = _words("energetic upbeat fast dynamic punchy lively exciting hype fun happy action sporty")
MOOD_CALM = _words(
    "calm elegant slow relaxing relaxed gentle soft peaceful chill luxurious cinematic dreamy serene"
)
MUSIC_MOODS: tuple[frozenset[str], ...] = (
    _words(
        "upbeat energetic happy fun dance pop fast rock hype lively party faster happier livelier punchier"
    ),
    _words(
        "calm chill relaxing soft ambient slow peaceful lofi piano gentle elegant serene dreamy calmer "
        "chiller slower softer mellow relaxed quiet"
    ),
    _words("epic cinematic dramatic orchestral"),
)


# ---------------------------------------------------------------------------------------------
# typos: an unknown word one slip away from exactly one word of the vocabulary is read as it


_COMMON = _words(
    "there these those their where which would could should about other after first before again every "
    "really please thanks thank great still while since maybe think thing things something nothing "
    "because where whole under never always little right point place world three seven eight house "
    "water story often until below above along maybe start later their them then than other order "
    "added using words while another second minute hours today video image music title voice every "
    "style photo shots scene frame sound track spots spot price sales sizes product products brand "
    "model color colour happy party sunset beach store shops items offer deals promo clips movie "
    "height weight width eighth fifty forty sixty sixth seventh eleven twelve fourth forth "
)
_NO_TYPO_CONCEPTS = frozenset({"generate", "quality", "ai", "fit", "use", "make", "video"})
_TYPO_TARGETS = frozenset(
    w
    for concept, members in CONCEPTS.items()
    if concept not in _NO_TYPO_CONCEPTS
    for w in members
    if len(w) >= 4 and w.isalpha()
) | frozenset(
    w
    for w in (*(w for p in PHRASES for w in p), *ORDINAL_WORDS, *TIME_UNITS, *UNITS, *TENS)
    if len(w) >= 5 and w.isalpha()
)


# Words the grammar reads literally (slot markers, comparatives): never "corrected" into something else.
GRAMMAR_WORDS = _words(
    "titled called named saying says say reads read reading between until after before later earlier during "
    "near towards ends finishes leave resize reformat "
    "sooner forward backward backwards only keep just every each all half middle instead another "
    "different other next normal regular double louder quieter softer volume level position place spot "
    "slot number percent times twice again fresh scratch regenerate latest uploaded brief short shorter "
    "longer faster slower quicker smoother snappier gentler extra less more through behind front back "
    "maximum minimum full include append insert footage shoot film animate scene shots generate except "
    "excluding besides ctrl cmd command control shift z y ctrl-z cmd-z ctrl-y cmd-y steps step edits "
    "changes actions halve halved halving twice again"
)
# Words the rules read literally beside the concepts (markers of time, wishes, units, phrase results).
RULE_WORDS = _words(
    "& ad apiece appear appears begin begins starts stay stays stop once till halfway midpoint delay "
    "auto automatic automatically transcribe transcribed transcript transcription backdrop backgrounds "
    "blank card cards slate cent pct per per-cent max x nd rd st th nr num fold half-a-minute "
    "half-minute doubled dislike hate prefer want wanna need new see play plus loop looping loops "
    "loud low quiet noisy noise soft silent following preceding previous likewise same 第"
)
_KNOWN = (
    GRAMMAR_WORDS
    | RULE_WORDS
    | frozenset(w for v in PHRASES.values() for w in v.split())
    | frozenset(_WORD_CONCEPTS)
    | frozenset(UNITS)
    | frozenset(TENS)
    | frozenset(TIME_UNITS)
    | frozenset(ORDINAL_WORDS)
    | frozenset(COLORS)
    | frozenset(POSITIONS)
    | frozenset(w for p in PHRASES for w in p)
)


# Words with no content of their own: articles, pronouns, auxiliaries, politeness and fillers. A
# message whose other words are all known has nothing the grammar overlooked.
FUNCTION_WORDS = _words(
    "a an the i me my we us our you your he she they it its this that these those there here what "
    "which who whom whose how when why is are was were be been being am do does did done have has had "
    "can could would will should shall may might must to of in on at by for from with without into "
    "onto over under up down out off about as so than too very really just also only now then okay "
    "ok hmm hm um uh like actually honestly basically maybe perhaps pls plz please thanks thank kindly "
    "yes no not don't dont doesn't isn't can't won't i'd i'm let's lets bit little some any more most "
    "much many one ones and or but if because while all both each every either neither own same such "
    "again still yet already even way lot lots quite rather pretty well right sure"
)


@lru_cache(maxsize=4096)
def lemma(word: str) -> str | None:
    """An unknown -ing / -ed form of a known verb ("swapping" → "swap", "removing" → "remove")."""
    if word in _KNOWN or word in _COMMON or not word.isalpha() or len(word) < 5:
        return None
    for suffix in ("ing", "ed"):
        if not word.endswith(suffix):
            continue
        stem = word[: -len(suffix)]
        for candidate in (stem, stem + "e", stem[:-1] if len(stem) > 2 and stem[-1] == stem[-2] else ""):
            if candidate and concepts_of(candidate):
                return candidate
    return None


def is_known(word: str) -> bool:
    """Is the word part of the agent's vocabulary (a concept, a grammar word, a number, a function word)?"""
    return word in _KNOWN or word in _COMMON or word in FUNCTION_WORDS


def _one_slip(a: str, b: str) -> bool:
    """Damerau distance exactly 1: one letter changed, added, dropped, or two neighbours swapped."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        i = diff[0]
        return len(diff) == 2 and diff[1] == i + 1 and a[i] == b[i + 1] and a[i + 1] == b[i]
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1 :] == short for i in range(len(long_)))


@lru_cache(maxsize=4096)
def correct(word: str) -> str | None:
    """The vocabulary word an unknown word is a typo of ("trasition" → "transition"), if exactly one and
    the word is not itself English ("feels" is not "reels": english_near.txt)."""
    return None if word in _english_near() else typo_of(word)


def typo_of(word: str) -> str | None:
    """The vocabulary word one slip from an unknown word, if exactly one (English or not)."""
    if len(word) < 5 or not word.isalpha() or is_known(word):
        return None
    hits = sorted(t for t in _TYPO_TARGETS if _one_slip(word, t))
    meanings = {_meaning(t) for t in hits}
    return hits[0] if len(meanings) == 1 else None  # "minuts": minute or minutes, the same thing


@lru_cache(maxsize=1)
def _english_near() -> frozenset[str]:
    """English words one slip from the vocabulary (scripts/make-english-near.py made the list)."""
    text = (Path(__file__).parent / "english_near.txt").read_text(encoding="utf-8")
    return frozenset(line for line in text.splitlines() if line and not line.startswith("#"))


def _meaning(word: str) -> object:
    if word in TIME_UNITS:
        return ("unit", TIME_UNITS[word])
    if word in ORDINAL_WORDS:
        return ("ordinal", ORDINAL_WORDS[word])
    return concepts_of(word) or word
