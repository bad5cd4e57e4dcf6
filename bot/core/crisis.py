"""Crisis detection: does a message talk about suicide, self-harm, hurting someone, or abuse?

`detect_crisis` runs on every message the person types, before anything else, so it is
pure, standard-library only, and every pattern is compiled once at import.

Safety comes first: a missed crisis costs far more than a crisis card shown once too
often, so the patterns lean towards recall. They still leave alone the idioms a
relationship coach hears all day ("this guilt is killing me", "she'll kill me when she
finds out", "I'm dying to know") and the ordinary words of repair work ("I hurt her
badly", "I cut ties with him", "I want to end the affair").

How a message is read:
1. `normalise`: NFKC, zero-width characters dropped, case folded, curly quotes made
   straight, contractions spelled out ("don't" and "dont" both become "do not"), slang
   and common misspellings mapped ("wanna", "kms", "sucide"), sentence punctuation kept
   as a " . " or " , " boundary, other punctuation and runs of whitespace made one space.
2. Idioms that would otherwise collide with a pattern are blanked out.
3. Pattern groups are tried in order of urgency: suicide, self-harm, harming others,
   abuse. The first group that matches names the kind.

Conscious choices (the test corpus in tests/data/crisis_corpus.yaml pins them):
- Any wish to be dead counts, even when it may be hyperbole ("I'd rather die than lose
  her"): asking once is cheap.
- Pain spoken as a figure of speech does not: "I'm dying inside with guilt", "this guilt
  is killing me", "I'm dead inside". Pain is the coach's everyday material.
- "I can't do this anymore", "I'm a burden", "she'd be better off without me" count:
  they are the indirect forms suicide risk most often takes.
- A bare "I want to disappear" does not (it is usually shame); "disappear forever" does.
- "I want to end it" counts; "end it with her" and "she wants to end it" do not: in this
  coach "it" is often the affair or the relationship, but a bare "end it" is asked about.
- "She yelled at me and I deserved it", "she kicked me out", "she checks my phone" are
  not abuse on their own: anger and new boundaries are expected after a discovery.
  Being hit, threatened, controlled, cut off from friends or money, or afraid is.
- Hurting the partner in words is the subject of the whole coach, so "hurt her" only
  counts as harm with clear intent ("I want to hurt him") and never under a negation
  ("I don't want to hurt her again").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from enum import Enum


class CrisisKind(Enum):
    SUICIDE = "suicide"  # suicide, wanting to die, not wanting to be here, indirect forms
    SELF_HARM = "self_harm"
    HARM_OTHERS = "harm_others"  # intent to hurt someone
    ABUSE = "abuse"  # being hurt, threatened, controlled or made afraid at home


# --- normalising --------------------------------------------------------------------------

_ZERO_WIDTH = dict.fromkeys(
    map(
        ord,
        "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b\u200c\u200d\u200e\u200f"
        "\u202a\u202b\u202c\u202d\u202e\u2060\u2061\u2062\u2063\u2064\u206a\u206b\u206c"
        "\u206d\u206e\u206f\u3164\ufeff\uffa0",
    )
)
_QUOTES = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u02bc": "'",
        "\u02bb": "'",
        "\u00b4": "'",
        "`": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u2033": '"',
        "\u2013": "-",
        "\u2014": "-",
    }
)
_NOT = re.compile(r"\b(\w+)n't\b")
_NOT_STEMS = {"wo": "will", "ca": "can", "sha": "shall", "ai": "is"}
_CONTRACTION = re.compile(r"(?<=\w)'(m|re|ve|ll|d)\b")
_CONTRACTION_WORDS = {"m": " am", "re": " are", "ve": " have", "ll": " will", "d": " would"}
_WITHOUT = re.compile(r"\bw/o\b")
_ELLIPSIS = re.compile(r"\.{2,}")  # "I want to... die" is one thought, not two sentences
_SENTENCE = re.compile(r"[.!?;\n\r\u2029\u2028]+")
_COMMA = re.compile(r",+")
_OTHER = re.compile(r"[^\w.,]+|_+")
_REPEATS = re.compile(r"([a-z])\1{2,}")  # "killll", "dieeee", "soooo"
_SPLIT_WORDS = re.compile(r"\b(?:my self|me self|un alive|some one|any more|no body|every one)\b")
_SPLIT_JOINED = {
    "my self": "myself",
    "me self": "myself",
    "un alive": "unalive",
    "some one": "someone",
    "any more": "anymore",
    "no body": "nobody",
    "every one": "everyone",
}
_TOKEN = re.compile(r"[a-z0-9]+")
_SPACES = re.compile(r"\s+")

# Apostrophe-less contractions, chat spelling and misspellings, one token to its reading.
_TOKENS: dict[str, str] = {
    "dont": "do not",
    "doesnt": "does not",
    "didnt": "did not",
    "cant": "can not",
    "cannot": "can not",
    "wont": "will not",
    "wouldnt": "would not",
    "couldnt": "could not",
    "shouldnt": "should not",
    "isnt": "is not",
    "arent": "are not",
    "wasnt": "was not",
    "werent": "were not",
    "havent": "have not",
    "hasnt": "has not",
    "hadnt": "had not",
    "aint": "is not",
    "im": "i am",
    "ive": "i have",
    "id": "i would",
    "youre": "you are",
    "youll": "you will",
    "youd": "you would",
    "theyre": "they are",
    "theyll": "they will",
    "theyd": "they would",
    "itll": "it will",
    "itd": "it would",
    "thatll": "that will",
    "hed": "he would",
    "shes": "she is",
    "hes": "he is",
    "whats": "what is",
    "thats": "that is",
    "theres": "there is",
    "shouldve": "should have",
    "wouldve": "would have",
    "couldve": "could have",
    "wanna": "want to",
    "wana": "want to",
    "wnat": "want",
    "wnt": "want",
    "whant": "want",
    "gonna": "going to",
    "gona": "going to",
    "finna": "going to",
    "gotta": "got to",
    "hafta": "have to",
    "tryna": "trying to",
    "imma": "i am going to",
    "ima": "i am going to",
    "kinda": "kind of",
    "u": "you",
    "ur": "your",
    "r": "are",
    "2": "to",
    "ppl": "people",
    "every1": "everyone",
    "evry1": "everyone",
    "some1": "someone",
    "no1": "no one",
    "noone": "no one",
    "any1": "anyone",
    "bc": "because",
    "cuz": "because",
    "coz": "because",
    "rn": "right now",
    "kms": "kill myself",  # chat shorthand for "kill myself"
    "kil": "kill",
    "kll": "kill",
    "kiled": "killed",
    "kiling": "killing",
    "killin": "killing",
    "dieing": "dying",
    "dyin": "dying",
    "ded": "dead",
    "slef": "self",
    "selfharm": "self harm",
    "sewerslide": "suicide",  # algospeak, as on short-video apps
    "sui": "suicide",
    "unalived": "unalive",
    "unaliving": "unalive",
    "unalives": "unalive",
}


def _one_edit_away(word: str) -> set[str]:
    """Every string one deletion, transposition, substitution or insertion from `word`."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    out = {a + b[1:] for a, b in splits if b}
    out |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    out |= {a + c + b[1:] for a, b in splits if b for c in letters}
    out |= {a + c + b for a, b in splits for c in letters}
    return out


def _fuzzy(words: Iterable[str]) -> dict[str, str]:
    # One typo away from these long words is still them: no English word sits that close
    # ("subside" is two edits from "suicide"). Short words like "kill" or "die" have real
    # neighbours ("kilt", "dye"), so their misspellings are listed by hand above.
    table: dict[str, str] = {}
    for word in words:
        for variant in _one_edit_away(word):
            table.setdefault(variant, word)
    return table


_TOKENS = {**_fuzzy(("suicide", "suicidal", "suicides", "myself")), **_TOKENS}


def _token(m: re.Match[str]) -> str:
    word = m.group(0)
    return _TOKENS.get(word, word)


def _not(m: re.Match[str]) -> str:
    stem = m.group(1)
    return _NOT_STEMS.get(stem, stem) + " not"


def normalise(text: str) -> str:
    """The reading the patterns match against; exposed for tests."""
    text = unicodedata.normalize("NFKC", text).translate(_ZERO_WIDTH).casefold()
    text = text.translate(_QUOTES)
    text = _NOT.sub(_not, text)
    text = _CONTRACTION.sub(lambda m: _CONTRACTION_WORDS[m.group(1)], text)
    text = text.replace("'", "")
    text = _WITHOUT.sub(" without ", text).replace("&", " and ")
    text = _ELLIPSIS.sub(" ", text)
    text = _SENTENCE.sub(" . ", text)
    text = _COMMA.sub(" , ", text)
    text = _OTHER.sub(" ", text)
    text = _REPEATS.sub(r"\1", text)
    text = _TOKEN.sub(_token, text)
    text = _SPLIT_WORDS.sub(lambda m: _SPLIT_JOINED[m.group(0)], text)
    return _SPACES.sub(" ", text).strip()


# --- pattern fragments --------------------------------------------------------------------

END = r"(?= ?[.,]|$)"  # end of a sentence or clause
FILL = (
    r"(?:(?:just|really|fucking|fuckin|freaking|literally|honestly|simply|seriously|actually|"
    r"quietly|peacefully|already|all|now|so|badly|rather|truly|kind of|sometimes|often|"
    r"still|genuinely|even|truly|completely|totally|much|very|finally|secretly|almost|"
    r"also|then|once|nearly) )*"
)
MYSELF = r"(?:myself|my own self)"
BODY = r"(?:wrists?|arms?|forearms?|legs?|thighs?|skin|stomach|belly|hips?|body|chest|ankles?)"
PARTNER = (
    r"(?:wife|husband|partner|boyfriend|girlfriend|fiance|fiancee|spouse|ex|ex wife|"
    r"ex husband|ex partner|bf|gf|hubby|missus|mrs|man|woman|dad|father|mom|mum|mother|"
    r"stepdad|stepfather|stepmom|stepmum|stepmother|family|in laws|brother|sister|son|"
    r"daughter|boss|lover|affair partner|ap)"
)
# Whom someone might hurt. "her" is also a possessive: "killed her trust" is not a threat,
# so a following noun of that kind rules the match out.
_HER_NOUN = (
    r"(?! (?:trust|feelings?|mood|vibe|spirit|confidence|hopes?|dreams?|love|faith|buzz|joy|"
    r"heart|soul|self esteem|plans?|chances?|career|interest|excitement|enthusiasm|phone|"
    r"plants?|appetite|patience|sense|respect|smile|happiness|innocence|belief|image|"
    r"reputation|ego|pride|with kindness|inside|softly|dignity|sanity|peace|time|day|"
    r"night|week|life|world|mind|marriage|relationship|memory|memories|name)\b)"
)
TARGET = (
    r"(?:him|her" + _HER_NOUN + r"|them|someone|somebody|anyone|anybody|people|everyone|"
    r"everybody|that (?:guy|man|woman|girl|bitch|bastard|asshole|prick|dude|person|cunt|"
    r"piece of \w+)|the other (?:guy|man|woman|girl|person|one)|"
    r"(?:my|his|her|our|their) " + PARTNER + r"|(?:my|the|our|her|his) (?:kids?|children|"
    r"baby|babies|child)|the (?:guy|man|woman|bitch|bastard|affair partner|ap|dude)|"
    r"(?:her|his) (?:lover|affair partner|new \w+))"
)
ABUSER = (
    r"(?:he|she|they|my "
    + PARTNER
    + r"|(?:her|his) "
    + PARTNER
    + r"|the other (?:man|woman|guy|person))"
)
ABUSER_OBJ = r"(?:him|her|them|my " + PARTNER + r")"
OFTEN = (
    r"(?:(?:always|sometimes|often|keeps|still|has|had|has been|had been|will|would|is|was|"
    r"started|starts|even|also|then|again|just|really|actually|literally|regularly|"
    r"constantly|once|twice|usually|physically|never stops|does) )*"
)
WANT = (
    r"(?:want|wants|wanted|wanting|wish|wished|wishing|hope|hoping|ready|deserve|deserved|"
    r"deserves|rather|prefer|longing|longed|desire|would like|would love|plan|planning|"
    r"planned|need|needed|going|about|trying|tried|try|decided|decide)"
)
# What wanting to be dead sounds like, after "I want to ...".
DIE = (
    r"(?:die(?! for (?:her|him|them|you|my|our|the)\b)|be dead|end (?:it all|my (?:own )?life|"
    r"myself|my existence|everything for good)|take my (?:own )?life(?! back)|kill "
    + MYSELF
    + r"|stop (?:living|existing|breathing)|not (?:be )?(?:alive|exist|wake up|be here|live)|"
    r"never wake up|(?:go to )?sleep forever|(?:go to sleep|fall asleep|sleep) and "
    r"(?:never|not) wake up|disappear (?:forever|for good|permanently|and never come back|"
    r"from (?:this|the) (?:world|earth|planet))|vanish (?:forever|for good|permanently)|"
    r"be gone (?:forever|for good)|leave this (?:world|earth|life)|give up on (?:life|living)|"
    r"cease to exist|stop being alive|not be around anymore|not be here anymore|unalive "
    + MYSELF
    + r"|be with \w+ in heaven|join \w+ in heaven)"
)

# "... if I wasn't here", "... if I just didn't wake up", "... if I was gone"
IF_I_GONE = (
    r"if i " + FILL + r"(?:was|were|had|did|could|would|just)? ?" + FILL + r"(?:(?:dead|gone|"
    r"died|disappeared|vanished|killed myself|ended it all|never born|never existed)|(?:not|"
    r"never|no longer) (?:have )?(?:been )?(?:here|around|alive|born|exist|existed|been born|"
    r"wake up|woke up|in (?:this|the) world|on this earth))\b"
)


def _compile(parts: Iterable[str]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in parts))


# --- idioms -------------------------------------------------------------------------------

# Blanked out before the patterns run, so a crisis said in the same message still shows.
_IDIOMS = _compile(
    [
        # "this guilt is killing me", "it would kill her to know", "the suspense is killing me"
        r"\b(?:it|that|this|which|its|what|knowing|finding out|losing \w+|the (?:guilt|shame|"
        r"stress|waiting|wait|suspense|silence|pain|secret|secrets|lying|lies|truth|news|"
        r"traffic|commute|heat|anxiety|worry|distance|uncertainty|pressure|regret|job|work|"
        r"cold|noise|boredom|tension|not knowing))(?: (?:is|was|would|will|might|could|really|"
        r"just|literally|totally|honestly|absolutely|slowly|going to|be|has been|been|"
        r"probably|definitely|surely|kind of|gonna|ever|ever so))* kill(?:s|ed|ing)? "
        r"(?:him|her|them|me|us|you)\b",
        r"\bkill\w* (?:him|her|them|me|you) with kindness\b",
        # "it will hit her hard", "the truth finally hit me"
        r"\b(?:it|that|this|reality|the (?:truth|news|guilt|shame|realisation|realization|"
        r"loss|grief))(?: (?:will|would|is going to|might|could|really|finally|suddenly|has|"
        r"had|just|going to|is|gonna|then))* hit(?:s|ting)? (?:me|him|her|them|us)\b",
        # "I'm killing myself at work" is effort, not a plan
        r"\b(?:am|been|keep|was|are) killing myself (?:at work|working|trying|to (?:pay|get|"
        r"make|finish|fix|please|keep|earn|win|prove)|over (?:this|it|work))\b",
        r"\b(?:die|dies|died|dying) (?:of|from) (?:embarrassment|laughter|laughing|boredom|"
        r"cringe|cuteness|envy|curiosity|thirst|hunger|the heat)\b",
        r"\b(?:dying|died|die) (?:laughing|to (?:know|see|hear|tell|try|meet|go|get))\b",
        r"\b(?:shoot|shot|shooting|shoots) (?:him|her|them|me) (?:a|an|the|some|my|down|over)\b",
        r"\bstab\w* (?:\w+ )?in the back\b",
        r"\bhit (?:me|him|her|them|us) up\b",
        r"\b(?:push|pushed|pushes|pushing|kick|kicked|kicks|kicking) (?:me|him|her|them) "
        r"(?:away|out|off)\b",
        r"\b(?:hit|hits|hitting|slapped|slaps) (?:me|him|her|them) with (?:the news|news|"
        r"a question|questions|the question|divorce|the divorce|papers|the papers|the truth|"
        r"facts|the facts|an ultimatum|a bill|the bill|silence|a text|a message|reality)\b",
        r"\bbeat\w* (?:me|him|her|them|us) (?:at|in|to it|to the)\b",
        r"\bshot myself in the foot\b|\bshoot myself in the foot\b",
        r"\b(?:drown|drowned|drowning) myself in\b",
        r"\bcut(?:ting)? myself (?:some slack|a break|off from|shaving|while)\b",
        r"\bburn(?:ed|t|ing)? myself out\b",
    ]
)


# --- patterns -----------------------------------------------------------------------------

_SUICIDE = [
    r"\bsuicid\w*",
    r"\bunalive\b(?! (?:him|her|them|you|someone|somebody|people|everyone)\b)",
    r"\b(?:kill|kills|killing|killed|off|offing|end|ending|hang|hanging|hanged|neck|necking|"
    r"poison|poisoning|gas|gassing|drown|drowning|shoot|shooting|top|topping) "
    + MYSELF
    + r"(?! (?:up|in the foot)\b)",
    r"\bdo(?:ing)? " + MYSELF + r" in\b",
    r"\b" + WANT + r" (?:to )?" + FILL + DIE + r"\b",
    r"\bi " + FILL + r"(?:am going to|am gonna|will|would|should|might as well|may as well|"
    r"could just|have to|need to|deserve to|ought to|am ready to|am about to|am planning to|"
    r"plan to|am trying to|tried to|better) " + FILL + DIE + r"\b",
    r"\b(?:think|thinking|thought|thoughts|fantasi[sz]\w*|dream\w*|obsess\w*|obsessing) "
    r"(?:about|of) " + FILL + r"(?:dying|death|ending it all|ending my (?:own )?life|"
    r"killing " + MYSELF + r"|not being (?:here|alive|around)|not existing|not waking up|"
    r"taking my (?:own )?life|disappearing forever|jumping off)",
    r"\bwish(?:ed|ing)? (?:that )?i (?:was|were|would|could|had|will|might)? ?"
    + FILL
    + r"(?:dead|died|vanish|"
    + DIE
    + r")\b",
    r"\bwish(?:ed|ing)? (?:that )?i (?:was|were|had|did|could|would|will)? ?(?:not|never) "
    r"(?:have )?(?:been )?(?:born|alive|exist|existed|wake up|woke up|been born|here anymore)\b",
    r"\bbetter off (?:dead|gone forever|without me|with me (?:dead|gone|out of the way|"
    r"not around|not here)|" + IF_I_GONE + r")",
    r"\b(?:happier|easier|better|fine|okay|ok|relieved|lighter|simpler) (?:for (?:everyone|"
    r"everybody|them|her|him|you|us|my family|the kids|all of them|all of us) )?(?:without me|with "
    r"me (?:dead|gone)|" + IF_I_GONE + r"|(?:when|once|after) i am (?:dead|gone)\b)",
    r"\b(?:when|once|after) i am (?:dead|gone)" + END,
    r"\b(?:no reason|no reasons|nothing|nobody|no one) (?:left )?(?:to|for me to) "
    r"(?:live|go on|keep going|stay alive|keep living) (?:for)?",
    r"\bnot worth living\b|\bno point (?:in |of |to )?(?:living|life|going on|being alive|"
    r"carrying on|existing|anything|it all|any of it|me being here|my life|waking up|"
    r"getting up|continuing|anymore|being here|trying anymore)\b",
    r"\b(?:life|living|my life|it all|everything|existence|existing) (?:is|feels|seems|has "
    r"become|became) (?:so |just |completely |totally |utterly )?(?:not worth (?:it|living)|"
    r"pointless|meaningless|worthless|hopeless|over|unbearable|too much to bear)\b",
    r"\b(?:not|never|no longer) (?:want|wanted|wanting|wants) to " + FILL + r"(?:live(?! "
    r"(?:a|an|with|in|together|apart|there|separately|as|near|far|here|on)\b)|be alive|"
    r"exist|wake up|go on(?= ?[.,]|$| anymore| any longer| living| with (?:my )?life| like "
    r"this)|keep going|keep living|carry on|continue living|see tomorrow|breathe|be here"
    r"(?= ?[.,]|$| anymore| any longer| much longer| on this earth| in this world| alive)|"
    r"be around(?= ?[.,]|$| anymore| any longer| much longer))",
    r"\b(?:not|never|no longer) deserve to (?:live|be alive|exist|be here|breathe)\b",
    r"\bshould not (?:be alive|exist|be here" + END + r"|have been born|be living)\b",
    r"\b(?:do not|can not|does not) see (?:the|any|a) point" + END,
    r"\b(?:do not|can not|does not) see (?:the|any|a) point (?:(?:in|of|to) (?:\w+ ){0,4})?"
    r"(?:anymore|any longer)\b",
    r"\b(?:do not|can not) see (?:the|any|a) point (?:in|of|to) (?:living|life|anything|"
    r"going on|being alive|carrying on|existing|it all|any of it|me being here|my life|"
    r"waking up|getting up|continuing|being here)\b",
    r"\bwhat is the point (?:anymore|of (?:living|life|anything|it all|any of it|going on|"
    r"being alive|me|my life|waking up|carrying on)|in (?:living|life|anything|going on))\b",
    r"\bi " + FILL + r"can not (?:go on|keep going|carry on|keep living|continue)"
    r"(?= ?[.,]|$| anymore| any longer| living| like this| with (?:my )?life| without)",
    r"\bi " + FILL + r"can not (?:do|take|handle|bear|stand|cope with|deal with|face|live) "
    r"(?:this|it|life|living|the pain|this pain|any of this|this life|myself|it all)(?: "
    r"\w+)? (?:anymore|any longer)\b",
    r"\bcan not live (?:with myself|like this|with (?:this|the) (?:guilt|shame|pain)|anymore|"
    r"any longer|without (?:her|him|them)(?= ?[.,]|$| and| i | anymore| any longer| in my "
    r"life))",
    r"\b(?:tired|sick|done|finished|exhausted) (?:of|with) (?:living|being alive|life|"
    r"existing|it all|being here|breathing)\b",
    r"\bgiv(?:e|ing|en) up on (?:life|living|everything|it all)\b|\bgave up on (?:life|"
    r"living)\b",
    r"\b(?:am|feel like|feel|become|became|being|am just|am nothing but|am only) (?:such |"
    r"just |only |nothing but |a |an |such a |so much of a |huge |big )*(?:burden|waste of "
    r"(?:space|air|oxygen|life))\b",
    r"\b(?:no one|nobody|not a soul|would anyone|will anyone|who would|who will|does anyone|"
    r"would anybody) (?:would |will |even |really |actually |ever )*(?:miss me|notice if i|"
    r"care if i|come to my funeral)",
    r"\bno way out\b",
    r"\b(?:will not|not going to|not gonna|never going to) (?:be )?(?:here|around|a problem|"
    r"a burden|a bother) (?:much longer|for (?:much )?longer|for long|anymore|any longer)\b",
    r"\b(?:will not|never) have to (?:worry about|deal with|put up with) me (?:anymore|again|"
    r"any longer|much longer|ever again)\b",
    r"\b(?:want|wish|need|hope) (?:it all|everything|life|my life) (?:would |could |to )?"
    r"(?:all )?(?:just )?(?:end|stop|be over)\b",
    r"\bput an end to (?:it all|my life|myself|my existence|my suffering)\b",
    r"\bend(?:ing|ed)? (?:it all|my (?:own )?life)\b|\btak(?:e|ing) my own life\b|"
    r"\btook my own life\b",
    r"\b(?:this is (?:my )?(?:final |last )?goodbye|goodbye forever|goodbye (?:cruel )?world|"
    r"saying (?:my )?goodbyes? to (?:everyone|everybody|you all|all of you)|(?:suicide|"
    r"goodbye|farewell) (?:note|letter)|giv\w* away (?:all )?(?:of )?my (?:stuff|things|"
    r"belongings|possessions))\b",
    r"\boverdos\w*|\bod(?:ed|d|ing)? on\b|\b(?:going to|want to|plan to|planning to|about to|"
    r"try to|tried to) od\b",
    r"\b(?:take|took|taking|swallow\w*|down\w*) (?:all|a bottle|a handful|the whole bottle|"
    r"every one|a lot|loads|heaps|too many|enough) (?:of )?(?:my |the |those |these )?"
    r"(?:pills|tablets|meds|medication|sleeping pills|painkillers|paracetamol)\b",
    r"\b(?:stockpil|hoard|sav)\w* (?:up )?(?:my |the )?(?:pills|meds|medication|tablets|"
    r"sleeping pills)\b",
    r"\bjump\w* (?:off|from|in front of) (?:a |the |my |this )?(?:bridge|building|roof|cliff|"
    r"balcony|train|bus|car|truck|lorry|window|ledge|tower|overpass|car park)\b",
    r"\b(?:step|stepping|walk|walking|throw|throwing|threw|lie|lying) (?:myself )?(?:down )?"
    r"(?:in front of|under|onto) (?:a |the )?(?:train|bus|car|truck|lorry|traffic|tracks)\b",
    r"\bthrow\w* myself (?:off|from|under|in front of)\b",
    r"\bdrive (?:my car |the car )?(?:off (?:a|the) (?:bridge|cliff|road)|into (?:a|the) "
    r"(?:tree|wall|river|oncoming traffic|traffic|lake|sea))\b|\bcrash (?:my|the) car on "
    r"purpose\b",
    r"\bnoose\b",
    r"\b(?:gun|pistol|rifle|barrel|knife) (?:to|in|against) my (?:head|mouth|temple|throat)\b",
    r"\bbullet (?:in|through) my (?:head|brain|skull)\b|\bblow my (?:brains|head) (?:out|off)\b",
    r"\bslit (?:my|both) (?:wrists?|throat)\b|\bslitting my (?:wrists?|throat)\b",
    r"\b(?:she|he|they|my " + PARTNER + r") (?:\w+ ){0,3}(?:kill|killing|end|ending|hurt|"
    r"hurting|harm|harming) (?:herself|himself|themselves)\b",
    r"\bsleep forever\b",
    r"\bhope i (?:do not|will not|never|would not) wake up\b",
    r"\b(?:dark|suicidal|intrusive) thoughts\b|\bthoughts of (?:death|dying|ending it)\b",
    r"\bgoodbye (?:everyone|everybody|all)" + END,
    r"\bfeel(?:ing)? like dying\b",
    # "end it" alone counts; "end it with her" (the affair) does not.
    r"\bi (?:(?:am|have|was|had|just|really|honestly|kind of|still|already|finally|so|"
    r"seriously|even) )*(?:want|going|ready|plan|planning|about|decided|need|have) to "
    + FILL
    + r"end it(?= ?[.,]|$| tonight| today| now| soon)",
]

_SELF_HARM = [
    r"\bself (?:harm\w*|injur\w*|mutilat\w*)\b|\bnssi\b",
    r"\brelaps\w* (?:on |with |into )?(?:sh|self harm|cutting)\b|\bsh relapse\b",
    r"\b(?:cut|cuts|cutting|slash\w*|carv\w*|burn|burns|burned|burnt|burning|hurt|hurts|"
    r"hurting|harm|harms|harmed|harming|hit|hits|hitting|punch\w*|starv\w*|stab\w*|"
    r"bruis\w*|scratch\w*|bite|biting|bit) " + MYSELF + r"\b(?! (?:at|playing|in the|in a|"
    r"while|lifting|running|training|skiing|during|on the|at the|by accident|accidentally|"
    r"falling|trying to|working out|emotionally|more than|by (?:lying|cheating|doing)|with my "
    r"(?:lies|lying)|too|on (?:a|the|my)|cooking|making|shaving|ironing|with (?:hot|the "
    r"(?:iron|oven|stove|pan|kettle))|when i fell|in (?:the )?(?:foot|kitchen))\b)",
    r"\b(?:cut|cuts|cutting|slit|slash\w*|carv\w*|burn|burns|burned|burnt|burning|scratch\w*) "
    r"(?:into |on )?my " + BODY + r"\b",
    r"\b(?:been|started|start|starting|keep|kept|still|stop|stopped|quit|relapsed|relapsing|"
    r"back to|went back to|gone back to|go back to|urges? to keep) (?:cutting|self harming|"
    r"burning myself|hurting myself)(?= ?[.,]|$| again| myself| my " + BODY + r"| lately| "
    r"recently| every (?:day|night)| daily| for (?:weeks|months|years)| more| since| when| "
    r"and| but| because| at night| to cope)",
    r"\bcut(?:ting)? (?:myself )?again\b",
    r"\b(?:urges?|need|want|wanted|tempted|wanting|craving|itching|going|about) to cut"
    r"(?= ?[.,]|$| again| myself| tonight| so bad| really bad)",
    r"\b(?:fresh |new |deep )?(?:cuts|scars|wounds|burns) (?:on|from) (?:my "
    + BODY
    + r"|cutting|self harm)\b",
    r"\bmake " + MYSELF + r" (?:bleed|bruise|throw up|hurt)\b",
    r"\b(?:razor|blade|knife|lighter|cigarette)s? (?:to|on|against|into|across) my " + BODY + r"\b",
    r"\b(?:deserve|need|want|wanted) to (?:bleed|feel (?:physical )?pain|be hurt|get hurt|"
    r"suffer physically)\b",
]

_HARM_OTHERS = [
    r"\b(?:kill|kills|killed|killing|murder\w*|stab|stabs|stabbed|stabbing|shoot|shoots|shot|"
    r"shooting|strangl\w*|chok(?:e|es|ed|ing)|poison\w*|throttl\w*|tortur\w*|maim\w*|"
    r"unalive) "
    + TARGET
    + r"(?! (?:at|in (?:the|that|an|a) (?:game|match|final|quiz|argument|debate))\b)",
    r"\b(?:want|wanted|wants|going|plan|planning|planned|ready|about|tempted|urge|urges|like|"
    r"fantasi[sz]\w* about|dream\w* about|think\w* about|thought about|thoughts (?:of|about)|"
    r"need|swear i will|swear i am going|will|would|could|might|try|trying|decided|"
    r"capable of) (?:to )?" + FILL + r"(?:go |find \w+ and |go over there and )?(?:hit|"
    r"hitting|punch|punching|slap|slapping|smack|smacking|beat|beating|attack|attacking|"
    r"bash|bashing|batter|battering|run over|run down|kick|kicking|strangle|strangling|"
    r"kill|killing|murder|murdering|stab|stabbing|shoot|shooting|poison|poisoning|break "
    r"(?:his|her|their) (?:neck|legs?|face|jaw|nose|arms?|bones)) "
    + TARGET
    + r"(?! (?:at|in (?:a|an|the) (?:game|argument|race|debate)|back|out)\b)",
    r"\b(?:want|wanted|wants|wanting|going|plan|planning|ready|about|tempted|urge|urges|"
    r"fantasi[sz]\w* about|dream\w* about|swear i will|feel like|felt like|capable of) "
    r"(?:to )?"
    + FILL
    + r"(?:physically )?(?:hurt|hurting|harm|harming) "
    + TARGET
    + r"(?! (?:again|more|anymore|any more|even more|feelings|emotionally|like (?:i|that|"
    r"this)|the way|by|with (?:my|the|this) (?:words|truth|lies)|if i|when i|with this)\b)",
    r"\b(?:hurt|harm)\w* (?:him|her|them) physically\b|\bphysically (?:hurt|harm|hit)\w* " + TARGET,
    r"\b(?:will|might|could|going to|am going to|want to|would|about to|scared i will|"
    r"afraid i will|worried i will) " + FILL + r"(?:hurt|harm|hit|kill) (?:someone|somebody|"
    r"anyone|anybody|people|the kids|my kids|the children|my children|the baby|our baby|"
    r"our kids)\b",
    r"\bi " + FILL + r"(?:have |had )?(?:hit|slapped|punched|kicked|choked|strangled|shoved|"
    r"beat|smacked|struck|attacked|pushed|threatened|hurt \w+ physically) "
    + TARGET
    + r"(?! (?:with|back|away|off|out|where it hurts|at|too|to|into|in (?:an|a|the) "
    r"(?:argument|game|match|debate))\b)",
    r"\bi " + FILL + r"grabbed " + TARGET + r" by the (?:throat|neck|hair|arm)\b",
    r"\b(?:want|wish|hope) (?:that )?(?:him|her|them|he|she|they|that \w+|the other \w+|"
    r"my " + PARTNER + r") (?:was |were |would |to |will |could )?(?:dead|die|dies|drop dead|"
    r"be dead)\b",
    r"\bmake (?:him|her|them|that \w+|the other \w+) (?:pay|suffer|bleed)(?! for (?:the|a|an|"
    r"his|her|their|half|it|dinner|rent|lunch)\b)",
    r"\b(?:get|getting|got|buy|buying|bought|grab|grabbed|load\w*) (?:a |my |the )?(?:gun|"
    r"knife|weapon|rifle|pistol|shotgun|baseball bat) (?:and|to|so i can|then|for (?:him|"
    r"her|them))\b",
    r"\bsnap and (?:hurt|kill|hit|attack)\b",
]

_ABUSE = [
    r"\b" + ABUSER + r" " + OFTEN + r"(?:hits?|hitting|beats?|beating|beat me up|slaps?|"
    r"slapped|slapping|punch(?:es|ed|ing)?|kick(?:s|ed|ing)?|chok(?:es|ed|ing)|"
    r"strangl(?:es|ed|ing)|push(?:es|ed|ing)?|shov(?:es|ed|ing)|throws? (?:\w+ ){0,3}at|"
    r"threw (?:\w+ ){0,3}at|bit|bites|biting|burn(?:s|ed|t)|grabs|grabbed|pins|pinned|"
    r"restrain\w*|attack\w*|assault\w*|abus\w*|threaten\w*|rap(?:es|ed)|spits? (?:on|at)|"
    r"spat (?:on|at)|locks?|locked|stalks?|stalked|stalking|tortur\w*|intimidat\w*|"
    r"terroris\w*|terroriz\w*|blackmail\w*|isolat\w*|drag\w*|choked) me\b(?! (?:away|out|"
    r"up|off|to|into|too|at (?:\w+ )?(?:chess|cards|games?|tennis|running|everything|pool|"
    r"golf)|in (?:an |the )?(?:argument|game|race))\b)",
    r"\b" + ABUSER + r" " + OFTEN + r"(?:hurts|hurt|is hurting|has been hurting|keeps hurting)"
    r" me(?= ?[.,]|$| physically| again and again| all the time| every (?:day|night|time)| "
    r"when (?:he|she|they) (?:is |gets |are )?(?:drunk|angry|mad))",
    r"\bphysically (?:hurts?|hurting|hurt|harm\w*|abus\w*|attack\w*) me\b",
    r"\b" + ABUSER + r" " + OFTEN + r"(?:hits|hit|beats|hurts|hurt|slaps|kicks|chokes) "
    r"(?:the|our|my|her|his) (?:kids?|children|baby|son|daughter|dog|cat)\b",
    r"\bthreaten\w* (?:to )?(?:kill|hurt|harm|hit|beat|stab|shoot|strangle|choke|burn) (?:me|"
    r"my (?:kids|children|family)|the (?:kids|children)|us)\b",
    r"\bthreaten\w* (?:to )?(?:take (?:the |my |our )?(?:kids|children|baby)(?: away)?|have me "
    r"(?:killed|hurt|beaten)|destroy me|ruin my life)\b",
    r"\bthreaten\w* (?:my life|my family|my kids|my children|the kids)\b",
    r"\b(?:controls?|controlling) (?:all )?(?:of )?(?:my (?:money|finances|bank|accounts?|"
    r"passport|documents|medication|meds|life|phone|car)|every(?:thing)? (?:i do|move)|"
    r"where i go|who i (?:see|talk to)|what i (?:eat|wear))\b",
    r"\b(?:will not|does not|did not|never|would not|refuses to|is not going to) let me "
    + FILL
    + r"(?:(?:see|talk to|call|text|visit|meet|contact|speak to) (?:my |any |any of my )?"
    r"(?:friends?|family|parents|mum|mom|dad|sister|brother|siblings|relatives|doctor|"
    r"therapist|anyone|anybody|people|coworkers|colleagues)|(?:have|use|get|keep|touch) "
    r"(?:any |my own |my |a |our )?(?:money|cash|bank (?:account|card)|credit card|phone|car|"
    r"keys|passport|job|friends|documents|medication|meds|food)|leave the (?:house|flat|"
    r"apartment|room)|go (?:out|anywhere|outside)|get a job|work|see a doctor)\b",
    r"\b(?:am|is|not|never) allowed to (?:(?:see|talk to|call|text|visit|meet|contact|speak to)"
    r" (?:my |any |any of my )?(?:friends?|family|parents|mum|mom|dad|sister|brother|siblings|"
    r"relatives|doctor|therapist|anyone|anybody|people|coworkers|colleagues)|(?:have|use|get|"
    r"keep|touch) (?:any |my own |my |a |our )?(?:money|cash|bank (?:account|card)|credit "
    r"card|phone|car|keys|passport|job|friends|documents|medication|meds|food)|leave the "
    r"(?:house|flat|apartment|room)|go (?:out|anywhere|outside)|get a job|work)\b",
    r"\b(?:makes|made|forces|forced) me (?:to )?(?:ask|beg) (?:\w+ )?for (?:money|"
    r"permission)\b",
    r"\btakes? (?:all )?my (?:money|wages|salary|pay|paycheck|paycheque|passport|keys|bank "
    r"card|cards|car keys)\b|\btook (?:all )?my (?:money|wages|salary|passport|bank card)\b",
    r"\b(?:scared|afraid|terrified|frightened|fearful|petrified) (?:to|of) (?:go|going|be|"
    r"being|come|coming|get|getting|stay|staying|return|returning|sleep|sleeping) (?:back )?"
    r"(?:home|alone with (?:him|her|them)|in (?:my|the|our) (?:own )?(?:house|home|flat|"
    r"apartment|bedroom))\b",
    r"\bi " + FILL + r"(?:do not|does not|never|no longer|can not) feel safe(?= ?[.,]|$| at "
    r"home| in (?:my|our|the) (?:own )?(?:home|house|flat|apartment|bed|bedroom)| with (?:him|"
    r"her|them|my)| around (?:him|her|them|my)| anymore| going home| here)",
    r"\bi am not safe(?= ?[.,]|$| at home| here| with| around| in (?:my|our|this) (?:own )?"
    r"(?:home|house|flat))|\bnot safe (?:at home|in (?:my|our) (?:own )?(?:home|house))\b",
    r"\b(?:scared|afraid|terrified|frightened|petrified|fearful|fear) (?:of |for )my "
    r"(?:life|safety|kids safety|childrens safety)\b",
    r"\b(?:scared|afraid|terrified|frightened|petrified) of " + ABUSER_OBJ + r"(?= ?[.,]|$| "
    r"and| but| because| when| now| sometimes| all the time| honestly| lately| already| "
    r"too| right now| so| he | she | they | i )",
    r"\b(?:scared|afraid|terrified|frightened|petrified|worried) (?:that )?"
    + ABUSER
    + r" (?:will|would|might|could|is going to|may) "
    + FILL
    + r"(?:hurt|hit|kill|beat|harm|"
    r"attack|strangle|choke|stab|shoot) (?:me|my kids|the kids|us|our kids|the children|"
    r"my children)\b",
    r"\bwhat (?:he|she|they) (?:will|would|might|could) do to me\b",
    r"\b(?:said|says|told me|threatened|threatens|swore|swears|promised) (?:that )?(?:he|she|"
    r"they)? ?(?:will|would|is going to|was going to)? ?" + FILL + r"(?:kill|hurt|hit|beat|"
    r"stab|shoot|strangle|choke|burn|destroy|end) (?:me|my kids|the kids|us|our kids|my "
    r"family)\b",
    r"\b" + ABUSER + r" (?:is going to|will|would|might) " + FILL + r"(?:kill|hurt|beat|hit) "
    r"me if i (?:leave|tell|go|try|call|report|talk|speak|say|see|do not|ever leave)\b",
    r"\b(?:rape|raped|rapes|raping|rapist|molest\w*)\b|\bsexual(?:ly)? (?:assault\w*|abus\w*|"
    r"violence)\b",
    r"\b(?:forces|forced|makes|made|pressures|pressured|coerces|coerced) me (?:to |into )?"
    r"(?:have sex|sex|do sexual|sleep with|sexual)\b",
    r"\b(?:domestic (?:violence|abuse)|intimate partner violence|coercive control|abusive "
    r"(?:relationship|partner|husband|wife|boyfriend|girlfriend|marriage|spouse|ex|home)|"
    r"battered)\b",
    r"\b(?:being|been|was|am|get|getting|got) (?:physically |emotionally |sexually |"
    r"financially )?abused\b",
    r"\b" + ABUSER + r" (?:is|gets|got|becomes|became|can be|has been) (?:really |very |so )?"
    r"(?:violent|abusive|physical with me)\b",
    r"\b(?:gave|give|gives|left) me (?:a )?(?:black eye|bruises?|a bruise|a split lip|"
    r"a concussion|marks)\b|\bbruises (?:from|because of) " + ABUSER_OBJ + r"\b",
]

# In urgency order: the first group that matches names the crisis. HARM_OTHERS is read under
# negation ("I would never hit her"); the others are not, because negation is how some crises
# are said ("I don't want to live").
_GROUPS: tuple[tuple[CrisisKind, re.Pattern[str], bool], ...] = (
    (CrisisKind.SUICIDE, _compile(_SUICIDE), False),
    (CrisisKind.SELF_HARM, _compile(_SELF_HARM), False),
    (CrisisKind.HARM_OTHERS, _compile(_HARM_OTHERS), True),
    (CrisisKind.ABUSE, _compile(_ABUSE), False),
)
_NEGATED = re.compile(r"\b(?:not|never|no longer|nor)(?: \w+){0,2} $")
_NEGATION_WINDOW = 40


def _negated(text: str, start: int) -> bool:
    return _NEGATED.search(text[max(0, start - _NEGATION_WINDOW) : start]) is not None


def _matches(pattern: re.Pattern[str], text: str, negatable: bool) -> bool:
    pos = 0
    while (m := pattern.search(text, pos)) is not None:
        if not negatable or not _negated(text, m.start()):
            return True
        pos = m.start() + 1
    return False


def detect_crisis(text: str) -> CrisisKind | None:
    """The most urgent kind of crisis the message speaks of, or None."""
    reading = _IDIOMS.sub(" . ", normalise(text))
    for kind, pattern, negatable in _GROUPS:
        if _matches(pattern, reading, negatable):
            return kind
    return None
