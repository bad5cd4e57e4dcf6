"""Validation check: sentences that argue with a hurt partner's feeling instead of meeting it.

Used on a validating sentence the person practises. It looks for telling the partner how
to feel ("you shouldn't feel"), telling them to stop feeling it ("calm down"), judging
the feeling ("you're overreacting"), shrinking it ("it's not that bad", "at least"),
"I understand, but", hurrying it ("you'll get over it"), questioning it ("why are you
still upset?"), and presuming to know it ("I know how you feel").

Legacy: the rules now live in `dialogues/checks/validation.yaml`; this module only keeps
`TEXT_CHECKS` working until the compiled checks are wired in. Delete it then.
"""

from __future__ import annotations

from bot.core.checks.apology import HOWEVER, rule
from bot.core.checks.matching import Finding, Rule
from bot.core.checks.model import TextCheck

_WORDS3 = r"(?: [\w'-]+){0,3}"  # up to three following words, to make a quote readable
_FEELINGS = (
    r"(?:upset|angry|mad|sad|hurt|jealous|worried|anxious|scared|afraid|insecure|paranoid|"
    r"suspicious|bothered|offended|emotional|betrayed|humiliated|ashamed|embarrassed|"
    r"like this|like that|this way|that way|crying)"
)

_RULES: tuple[Rule, ...] = (
    rule(
        "should_not_feel",
        r"\byou (?:shouldn't|should not|mustn't|must not|don't need to|do not need to|"
        r"don't have to|do not have to) (?:still )?feel\b" + _WORDS3,
        r"\byou (?:shouldn't|should not|mustn't|must not|don't need to|do not need to|"
        r"don't have to) (?:still )?(?:be|get|stay) (?:so |this |that |that much |as )?"
        + _FEELINGS
        + r"\b",
        r"\byou (?:have|had) no (?:reason|right|cause) to (?:feel|be|get|worry|doubt|cry)\b"
        + _WORDS3,
        r"\bthere's no (?:need|reason|point) (?:to|in) (?:feel|be|get|worry|cry)\w*\b" + _WORDS3,
        r"\bno need to (?:feel|be|get|worry|cry)\b" + _WORDS3,
        r"\byou should (?:be|feel) (?:grateful|happy|glad|relieved|thankful|lucky)\b",
    ),
    rule(
        "calm_down",
        r"\b(?:calm down|settle down|chill out|cool it|take it easy|cheer up|lighten up)\b",
        r"\b(?:just |please )?chill\b(?=[.!?,]|$| please)",
        r"\b(?:don't|do not|stop|quit|please stop) (?:be |being |get |getting )"
        r"(?:so |this |that |all )?(?:upset|angry|mad|sad|emotional|dramatic|worked up|"
        r"hysterical|sensitive|jealous|paranoid|insecure|negative|like that|like this|that way)\b",
        r"\b(?:don't|do not|stop|please stop|quit) (?:crying|yelling|shouting|worrying|"
        r"overthinking|dwelling|freaking out|cry|worry|overthink|dwell|freak out|panic)\b",
        r"\b(?:don't|do not|stop) tak(?:e|ing) (?:it|this) (?:so )?personally\b",
        r"\b(?:just |please |can you |could you |can't you |try to |you need to )"
        r"(?:relax|breathe)\b",
        r"(?:^|[.!?] )(?P<q>relax)\b",
    ),
    rule(
        "judging",
        r"\byou(?:'re| are| were) (?:being )?(?:(?:so|too|a bit|a little|way|really|very|just) )*"
        r"(?:overreacting|over-reacting|exaggerating|dramatic|oversensitive|over-sensitive|"
        r"irrational|unreasonable|hysterical|paranoid|crazy|ridiculous|silly|petty|"
        r"over the top|overthinking|making (?:a big deal|a mountain|too much|this (?:bigger|"
        r"worse|about you))|blowing (?:this|it|things|everything) (?:up|out of proportion)|"
        r"reading (?:too much|into)|imagining (?:it|things)|taking (?:this|it) (?:too|so) "
        r"(?:hard|personally|far))\b",
        r"\byou(?:'re| are| were) (?:being (?:(?:so|too|way|really|very|a bit|a little) )*"
        r"|(?:(?:so|too|way|really|very) )+)"
        r"(?:emotional|sensitive|jealous|insecure|negative|much)\b",
        r"\b(?:that's|it's|this is) (?:a bit |kind of |so |pretty )?(?:silly|ridiculous|"
        r"irrational|dramatic|paranoid|an overreaction|over the top|too much)\b(?! to\b| for\b)",
        r"\b(?:it's|that's) (?:silly|ridiculous|irrational|stupid|pointless|crazy) to "
        r"(?:feel|be|worry|think|get|cry)\b",
    ),
    rule(
        "minimising",
        r"\b(?:it|that|this)(?: is|'s| was)(?: not|n't) (?:that|so|as|a|such a) "
        r"(?:bad|big|serious|terrible|awful|huge)(?: (?:of a )?deal)?\b",
        r"\b(?:no big deal|not a big deal|not the end of the world|"
        r"it could (?:have been|be) worse|could've been worse|there are worse things|"
        r"(?:other|others|some) (?:people|couples)? ?have it (?:worse|harder)|"
        r"look on the bright side|(?:it|that|she|he) (?:was|is|'s|meant) nothing|"
        r"didn't mean anything|nothing (?:really )?happened)\b",
        r"\b(?:it|that|this)(?:'s| is| was) (?:just|only) (?:a |an |one |some )?(?:kiss|text|"
        r"texts|fling|flirt|messages|once|one time|sex|physical|words|friendship|friend|"
        r"mistake|night|thing|phase)\b",
    ),
    rule(
        "yes_but",
        # "I understand, but…", "You're right, but…": the "but" takes the first half back.
        # "Not only … but" is consumed without a quote; a "but" that turns to staying and
        # listening ("but I'm here") does not argue with the feeling.
        r"\bnot (?:only|just)\b[^.!?]{0,80}?\bbut\b"
        r"|(?P<q>\b(?:i (?:totally |completely |really |do |fully )?(?:understand|get it|"
        r"get that|get why|get you|hear you|know|see that|see it|see why|see where|realise|"
        r"realize|appreciate|respect)|you're right|that's (?:fair|valid|understandable|true)|"
        r"fair enough|i'm sorry you feel that way|it makes sense|i can see (?:that|why|it)|"
        rf"(?:yes|yeah|yep|ok|okay|sure))\b[^.!?]{{0,80}}?\b(?:but|{HOWEVER})\b)"
        r"(?!,? (?:i(?:'m| am) (?:here|listening|not going anywhere|staying)|i(?:'ll| will) "
        r"(?:keep|listen|stay|be here|wait)|(?:it's|that's) (?:on me|my fault)|i did (?:it|this)|"
        r"i chose)\b)",
    ),
    rule(
        "at_least",
        r"\bat least (?=(?:i|i'm|i've|i'd|it|it's|we|we're|you|you're|you've|he|she|they|"
        r"nothing|no one|nobody|that|this|now|my|our|the kids|there)\b)[\w'-]+(?: [\w'-]+){0,2}",
        r"\bat least(?=[.!?]|$)",
    ),
    rule(
        "rushing",
        r"\byou'll (?:get over (?:it|this|him|her)|feel better (?:soon|eventually|tomorrow|"
        r"in no time)|be (?:fine|okay|ok|over it|alright|all right)"
        r"(?: soon| in no time| eventually)?"
        r"|forget (?:about )?(?:it|this)|move on)\b",
        r"\bget over it\b",
        r"\b(?:just |you (?:need|have|should|ought|got) to |try to |please |can you (?:just )?|"
        r"why can't you (?:just )?|time to )(?:let (?:it|this|that) go|move on|"
        r"move past (?:it|this)|put (?:it|this) behind you|forget (?:about )?(?:it|this|that)|"
        r"stop (?:thinking|dwelling) (?:about|on) (?:it|this))\b",
        r"\b(?:time heals(?: all wounds)?|it'll pass|this (?:too )?(?:will|shall) pass|"
        r"it will pass|give it time)\b",
        r"\byou should (?:be )?(?:over (?:it|this|that)|past (?:it|this|that))(?: by now)?\b",
        r"\b(?:it|that|this) (?:was|happened) (?:(?:[\w-]+|a few|so many) )?(?:months|years|"
        r"weeks|ages|a year|a month|so long|a long time) ago\b",
        r"(?:^|[.!?] )(?P<q>(?:just )?(?:let it go|move on|forget about it|get over it))\b",
        r"\bit's been (?:long enough|months|a year|years|ages|weeks)(?: now| already)?"
        r"(?=[.!?,]|$)",
    ),
    rule(
        "questioning",
        r"\bwhy (?:are|do|does|is|would|can't|won't) (?:you|this|it|that) (?:still|even|always|so)"
        r"\b" + _WORDS3,
        r"\bwhy (?:are|were) you (?:upset|angry|mad|hurt|crying|sad|jealous|worried|bothered)\b",
        r"\bwhy (?:does|did|would|should) (?:it|this|that) (?:bother|upset|hurt|matter to|"
        r"affect) you\b",
        r"\bwhy can't you (?:just )?(?:forgive|let|move|get|trust|be|stop|see)\b" + _WORDS3,
        r"\bwhat's the (?:big )?deal\b",
        r"\bhow can you (?:still )?(?:be|feel) (?:upset|angry|hurt|sad|like that|that way|so)\b",
        r"\bare you (?:still|really) (?:upset|angry|mad|on about|hung up|thinking about|crying)\b"
        + _WORDS3,
        r"\bis (?:this|it|that) (?:still|really) (?:about|a thing|bothering you)\b" + _WORDS3,
    ),
    rule(
        "presuming",
        # Not "I don't know how you feel", which is honest: the pattern needs "I know".
        r"\bi (?:totally |completely |really )?(?:know|understand) (?:exactly |just |completely )?"
        r"(?:how you(?:'re| are)? (?:feel|feeling|must feel)|what you(?:'re| are) "
        r"(?:going through|feeling)|how it feels|what it's like|how that feels)\b",
        r"\bi(?:'ve| have) been (?:there|through (?:this|that|the same|it))\b",
        r"\bi felt the same (?:way )?when\b",
        r"\b(?:the )?same thing happened to me\b",
    ),
)

CHECK = TextCheck("validation", _RULES)
RULE_IDS: tuple[str, ...] = CHECK.rules


def run(text: str) -> tuple[Finding, ...]:
    return CHECK.run(text)
