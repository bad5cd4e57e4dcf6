"""Defensiveness check: the urge to defend yourself while your partner tells you their pain.

Used on what the person would say back to a hurt partner. It looks for the pivot word
("but"), comparisons that shrink the harm ("at least"), counter-attacks ("you also",
"what about you"), "I already said sorry", impatience with the healing ("how long will
this take", "get over it"), explaining or justifying, and denying or minimising.

Legacy: the rules now live in `dialogues/checks/defensiveness.yaml`; this module only keeps
`TEXT_CHECKS` working until the compiled checks are wired in. Delete it then.
"""

from __future__ import annotations

from bot.core.checks.apology import HOWEVER, rule
from bot.core.checks.matching import Finding, Rule
from bot.core.checks.model import TextCheck

_WORDS3 = r"(?: [\w'-]+){0,3}"  # up to three following words, to make a quote readable

_RULES: tuple[Rule, ...] = (
    rule(
        "but",
        # "Not only … but" is consumed without a quote; "no buts", "anything but",
        # "nothing but", "all but" and "last but not least" are not a pivot. Neither is a
        # "but" that turns back to listening ("but I'll listen first").
        r"\bnot (?:only|just)\b[^.!?]{0,80}?\bbut\b"
        r"|(?<!no )(?<!anything )(?<!nothing )(?<!all )(?<!last )"
        rf"(?P<q>\b(?:but|{HOWEVER})\b(?!,? (?:not least|i(?:'ll| will| am going to|'m going to|"
        r" want to) (?:just )?(?:listen|wait|hear|stop)|i(?:'m| am) (?:listening|here|not going)|"
        r"i hear you|i'm not making excuses|no excuses|that's on me|it's on me|"
        r"i did it|i chose)\b)" + _WORDS3 + ")",
    ),
    rule(
        "at_least",
        # "At least I told you"; not "at least once a day", "at least an hour".
        r"\bat least (?=(?:i|i'm|i've|i'd|it|it's|we|we're|you|you're|you've|he|she|they|"
        r"nothing|no one|nobody|that|this|now|my|our|the kids|there)\b)[\w'-]+(?: [\w'-]+){0,2}",
        r"\bat least(?=[.!?]|$)",
    ),
    rule(
        "counter_attack",
        r"\bwhat about (?:you|your|when you|the time you|all the times you|what you did)\b"
        + _WORDS3,
        r"\byou(?:'ve| have)? (?:also|too|as well) (?:hurt|lied|cheated|flirted|did|made|"
        r"messed up|kept secrets|betrayed|broke|weren't|were|ignored|neglected|pushed|played|"
        r"shut|stopped|said|let|wronged|do|have|kept|hid|went|texted|spent)\b" + _WORDS3,
        r"(?:^|[.!?,] )(?P<q>(?:you too|so did you|so have you|you did too|you do too|"
        r"same to you|same with you))(?=[.!?]|$)",
        r"\byou (?:hurt me|lied|cheated|flirted|made mistakes|messed up|kept secrets|betrayed me|"
        r"do it|did (?:it|that|things|stuff|the same)|do (?:that|the same)|were (?:distant|cold|"
        r"absent|never there|not there|busy)|weren't (?:perfect|innocent|there|a saint|blameless)"
        r")\b[^.!?]{0,40}?\b(?:too|as well|also)\b",
        r"\byou(?:'re| are| were)(?: not| no|n't) (?:exactly )?(?:innocent|perfect|a saint|"
        r"blameless|an angel|saint)\b(?: either)?",
        r"\byou've done (?:worse|the same|it too)\b",
        r"\b(?:look who's talking|you're one to talk|as if you (?:never|haven't|didn't|don't)\b"
        + _WORDS3
        + r")",
        r"\byou (?:always|never) (?:do this|did this|bring|listen|let|make|twist|nag|throw|blame|"
        r"exaggerate|overreact|start|help|notice|think about|take)\w*\b" + _WORDS3,
        r"\b(?:it's|it is|it was|this is|that's) (?:partly |also |half )?your fault\b",
    ),
    rule(
        "already_sorry",
        r"\bi(?:'ve| have)? already (?:said|told you|apologi[sz]ed|say|apologi[sz]e)"
        r"(?: (?:i'm|i am|i was))?(?: sorry)?\b",
        r"\bi(?:'ve| have) (?:said (?:i'm |i am |i was )?sorry|apologi[sz]ed) "
        r"(?:already|enough|so many times|a (?:hundred|thousand|million) times|"
        r"(?:like )?\w+ times|over and over|again and again)\b",
        r"\bi (?:said|told you) (?:i'm |i am |i was )?sorry,? (?:already|ok|okay|didn't i|"
        r"so many times|a (?:hundred|thousand|million) times)\b",
        r"\bi apologi[sz]ed,? (?:already|didn't i|so what|ok|okay)\b",
        r"\bhow many (?:more )?times (?:do|must|should|will|am|can|have) i(?: have to| going to)? "
        r"(?:say|apologi[sz]e|tell you)\w*\b(?: (?:i'm |i am )?sorry)?",
        r"\bwhat (?:more|else) do you want(?: from me)?\b",
        r"\bisn't (?:sorry|my apology|an apology|that) enough\b",
    ),
    rule(
        "impatience",
        r"\bhow long (?:is|will|does|do|are|must|am|until|till|before|can) "
        r"(?:this|it|you|we|i)\b(?: [\w'-]+){0,4}",
        r"\bhow long's (?:this|it)\b(?: [\w'-]+){0,4}",
        r"\bget over it\b",
        r"\b(?:just |can't you |why can't you |you need to |you have to |you should |"
        r"you've got to |time to |please )(?:just )?(?:get over|get past|move on|move past|"
        r"let (?:it|this|that) go|drop (?:it|this|that)|forget (?:about )?(?:it|this|that)|"
        r"put (?:it|this|that) behind)\b(?: (?:it|this|that|us|you))?",
        r"\b(?:can we|can't we|let's|let us|we need to|we have to|we should|i want to|"
        r"i just want to|i need us to|when can we|are we ever going to|will we ever) (?:just )?"
        r"(?:move on|move past|get past|get over|put (?:it|this|that) behind us|"
        r"stop (?:talking|fighting) about (?:it|this|that)|drop (?:it|this|that)|"
        r"forget (?:it|about it|about this))\b(?: (?:it|this|that|now|already))?",
        r"\b(?:it|that|this) (?:was|happened) (?:(?:[\w-]+|a few|so many) )?(?:months|years|"
        r"weeks|ages|a year|a month|so long|a long time) ago\b",
        r"\b(?:it's|that's|this is) (?:all )?in the past\b",
        r"\bthe past is the past\b",
        r"\bwhy (?:do|does|must|can't) (?:we|you) (?:keep|always|still) (?:have to )?"
        r"(?:bringing|bring|talking|talk|going|go|dragging|drag|digging|dig)\b" + _WORDS3,
        r"(?:^|[.!?] )(?P<q>(?:just )?(?:let it go|move on|forget about it|drop it))\b",
        r"\b(?:not this again|here we go again|we've been (?:over|through) this|"
        r"(?:are|aren't) we (?:done|past this)(?: yet)?|enough already|are you still on about)\b",
        r"\bwhen (?:will|are) you (?:going to )?(?:forgive me|get over|stop being|stop bringing|"
        r"let it go|be over)\b" + _WORDS3,
    ),
    rule(
        "explaining",
        r"\bthe (?:only )?reason (?:was|is|i|why|being)\b" + _WORDS3,
        r"\bi (?:only |just )?(?:did (?:it|that|this)|lied|cheated|hid (?:it|that|this)|"
        r"kept (?:it|that) (?:from you|secret|quiet)|texted (?:him|her|them)|said (?:it|that)|"
        r"did what i did) (?:to you )?(?:only |just |partly )?because\b",
        r"\b(?:you (?:have|need|'ve got|got) to understand|let me explain|i can explain|"
        r"hear me out|it's not what you think|it's (?:more )?complicated|"
        r"that's not how it (?:was|happened)|in my defen[cs]e|to be fair|i had my reasons|"
        r"you don't know the whole story|you don't understand|if you'd (?:just )?let me explain|"
        r"it's not like i)\b",
        r"\bi was (?:only|just) trying to\b" + _WORDS3,
        r"\bi didn't (?:mean|want|intend) (?:to|for)\b" + _WORDS3,
        r"\b(?:that's|that is|that was|that wasn't|that isn't|it's|it wasn't) (?:not )?"
        r"what i (?:meant|mean|was trying to say)\b",
        r"\bi (?:was|felt|'d been|had been) (?:so |really |very |just )?(?:lonely|stressed|drunk|"
        r"depressed|overwhelmed|neglected|unhappy|vulnerable|confused|going through)\b",
    ),
    rule(
        "minimising",
        r"\b(?:it|that|this|what i did)(?: is|'s| was)(?: not|n't) (?:that|so|as|a|such a) "
        r"(?:bad|big|serious|terrible|awful|huge)(?: (?:of a )?deal)?\b",
        r"\b(?:no big deal|not a big deal|not the end of the world|didn't mean anything|"
        r"meant nothing|nothing (?:really )?happened|it was (?:only |just )?(?:one time|once)|"
        r"it's not as bad as|it could (?:have been|be) worse|(?:that|it) never happened|"
        r"i never said that)\b",
        r"\b(?:it|that|she|he) (?:meant|was|means) nothing\b(?! like| compared| short)",
        r"\b(?:it|that)(?:'s| is| was) (?:just|only) (?:a |an |one |some )?(?:kiss|text|texts|"
        r"fling|flirt|flirting|messages|sex|physical|words|friendship|friend|night|thing|"
        r"talking|texting)\b",
        r"\byou(?:'re| are) (?:overreacting|exaggerating|being (?:dramatic|ridiculous|paranoid|"
        r"hysterical|irrational|unreasonable|crazy|silly|oversensitive|too sensitive)|"
        r"too sensitive|so sensitive|making (?:a big deal|a mountain|too much|this bigger|"
        r"it bigger|this into)|blowing (?:this|it|things) out of proportion|reading (?:too much|"
        r"into)|imagining (?:it|things))\b",
        r"\b(?:that's not|that is not|it wasn't|it was not) (?:what happened|how it happened|"
        r"like that|how it was)\b",
    ),
)

CHECK = TextCheck("defensiveness", _RULES)
RULE_IDS: tuple[str, ...] = CHECK.rules


def run(text: str) -> tuple[Finding, ...]:
    return CHECK.run(text)
