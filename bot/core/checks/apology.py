"""Legacy apology check, kept until the compiler loads dialogues/checks/apology.yaml.

The rules now live in `dialogues/checks/apology.yaml`, compiled by
`bot.core.checks.compile_check`. This module keeps the old Python rules only so that
`TEXT_CHECKS` works until the lead wires the compiled checks in; delete it then.
"""

from __future__ import annotations

from bot.core.checks.compile import loosen
from bot.core.checks.matching import Finding, Rule, matcher
from bot.core.checks.model import TextCheck


def rule(rule_id: str, *patterns: str) -> Rule:
    """A rule from regexes over the normalised text; apostrophes in them are optional."""
    return Rule(rule_id, tuple(matcher(loosen(p)) for p in patterns))


# --------------------------------------------------------------------------------------
# The apology rules
# --------------------------------------------------------------------------------------

SORRY = r"(?:sorry|apologi[sz]e[ds]?|apologies|apology)"
# "however" as a pivot, not "however long it takes" or "however you want".
HOWEVER = r"however(?! (?:long|much|many|hard|bad|often|far|you (?:want|need|like|feel)|it takes))"
_WORDS3 = r"(?: [\w'-]+){0,3}"  # up to three following words, to make a quote readable
# "I was drunk, but that's no excuse": the person already set the excuse aside.
_NOT_DISOWNED = (
    r"(?![^.!?]{0,40}\b(?:no excuse|not an excuse|doesn't excuse|isn't an excuse|"
    r"not excusing|not making excuses))"
)

_RULES: tuple[Rule, ...] = (
    rule(
        "sorry_if",
        # "I'm sorry if you were hurt", "apologies if that upset you", "sorry for anything"
        rf"\b{SORRY}(?:,? (?:so much|truly|really|deeply|to you|again))*,? "
        r"(?:if|in case|for anything|for whatever|for any (?:hurt|pain|upset|offen[cs]e))\b",
        # "if anything I did hurt you", "if I've upset you": but not "if I ever hurt you again"
        r"\bif (?:anything|something|what) i (?:did|said|have done|'ve done) "
        r"(?:hurt|upset|offended|caused)\b",
        r"\bif i(?:'ve| have| did| might have| may have)? (?:hurt|upset|offended|caused)\b"
        r"(?![^.!?]{0,25}\bagain\b)",
        r"\bto whatever extent\b",
    ),
    rule(
        "sorry_you_feel",
        # Regret aimed at the partner's feelings rather than one's own actions, unless the
        # same sentence goes on to own it ("... because of what I did").
        rf"\b{SORRY},? (?:that )?"
        r"(?:you(?:'re| are| were| feel| felt| got| have been| seem| see it| took it)"
        r"(?: (?:that way|like that|this way|so hurt|hurt|upset|betrayed|angry|sad|bad))?"
        r"|you (?:found out|had to find out|had to hear|had to see)"
        r"|(?:that's|this is|it's) how you (?:feel|see it)"
        r"|(?:it|this|that) (?:upset|bothered|offended) you)\b"
        r"(?![^.!?]{0,60}\b(?:because of (?:me|what i)|i caused|by (?:me|my|what i)|my fault)\b)",
    ),
    rule(
        "but",
        # An apology followed by "but"/"however", in the same sentence or starting the
        # next. "Not only … but" is consumed without a quote. "No buts" never matches:
        # "buts" is another word, and it promises no excuse, so it is left alone.
        # A "but" that turns to owning it ("but sorry isn't enough") is left alone too.
        rf"\bnot (?:only|just)\b[^.!?]{{0,80}}?\bbut\b"
        rf"|(?P<q>\b{SORRY}\b(?:(?!not (?:only|just)\b)[^.!?]){{0,80}}?(?:[.!?]+ ?)?"
        rf"(?<!no )\b(?:but|{HOWEVER})\b)"
        r"(?!,? (?:i know )?(?:that )?(?:sorry|words|saying (?:it|sorry)|an apology|apologi[sz]ing)"
        r" (?:is|isn't|is not|aren't|are not|won't|will not|can't|cannot)\b)",
    ),
    rule(
        "passive_voice",
        r"\bmistakes (?:were|have been|got) made\b",
        r"\b(?:a mistake|an error|your trust|trust) (?:was|got) (?:made|broken|betrayed)\b",
        r"\b(?:things|words|lines|boundaries|promises) (?:were|got|have been) "
        r"(?:said|done|crossed|broken)\b",
        r"\b(?:it|this|that|things|stuff) just happened\b",
        r"\b(?:it|this|that) happened\b(?=(?: again)?(?: too)?(?:[.,!?;]|$))",
        r"\b(?:things|it|stuff) (?:got|went|spiraled|spiralled) "
        r"(?:out of (?:hand|control)|too far)\b",
        r"\bone thing led to (?:another|the other)\b",
        r"\bit (?:wasn't|was not|was never) (?:planned|meant to happen|supposed to happen)\b",
    ),
    rule(
        "shared_blame",
        r"\bwe(?: were| are|'re|'ve| have)? both (?:made mistakes|made|messed up|screwed up|"
        r"to blame|at fault|hurt each other|did things|played a part|had a part|contributed|"
        r"share the blame|were wrong|are responsible|were responsible|let each other down|"
        r"failed|neglected|drifted)\b",
        r"\bboth of us (?:made|messed|are to blame|were to blame|are at fault|were at fault|"
        r"share the blame|played a part|contributed|let)\w*\b",
        r"\b(?:it takes two|takes two to tango)\b",
        r"\b(?:both )?(?:of )?our (?:fault|faults|mistake|mistakes)\b",
        r"\byou(?:'ve| have)? (?:also|too|as well) (?:hurt|lied|cheated|flirted|did|made mistakes|"
        r"messed up|kept secrets|betrayed|broke|weren't|were|ignored|neglected|pushed|played|"
        r"shut|stopped|said|let|wronged|kept|hid|went|texted|spent)\b" + _WORDS3,
        r"\byou (?:hurt me|lied|cheated|flirted|made mistakes|messed up|kept secrets|betrayed me|"
        r"did (?:it|that|things|stuff|the same)|were (?:distant|cold|absent|never there|not there|"
        r"busy)|weren't (?:perfect|innocent|there|a saint|blameless))\b[^.!?]{0,40}?"
        r"\b(?:too|as well|also|either)\b",
        r"\byou(?:'re| are| were)(?: not| no|n't) (?:exactly )?(?:innocent|perfect|a saint|"
        r"blameless|an angel|saint)\b(?: either)?",
        r"\bwhat about (?:you|your|when you|the time you|all the times you|what you did)\b"
        + _WORDS3,
        r"\byour (?:part|share|role) in (?:this|it|what happened|all this)\b",
    ),
    rule(
        "minimising",
        # "it was just a kiss", "we were only talking"; not "it's only fair", "just that I…"
        r"\b(?:it|that|this|he|she|they|we|those|these|things)(?:'s| is| was| were|'re| are) "
        r"(?:really |honestly |literally |basically )?(?:just|only|merely) "
        r"(?!that\b|because\b|as\b|how\b|when\b|me\b|my fault|fair\b|right\b|natural\b|"
        r"the (?:start|beginning|first)\b|a (?:start|matter of time)\b|starting\b|beginning\b)"
        r"(?:(?:a|an|one|some|two|a few|a couple of|a couple|a little|a bit of|the) )?[\w'-]+",
        r"\b(?:we|i) (?:only|just) (?:kissed|texted|talked|flirted|messaged|chatted|hugged|"
        r"met up|hung out|went for (?:a )?(?:drinks?|coffee|dinner))\b",
        r"(?<!not )(?<!n\x27t )(?<!nt )\b(?:just|only) (?:once|one time|twice|a few times|"
        r"a couple of times|one night|a kiss|a fling|a flirt|a text|a few texts|a few messages|"
        r"texting|talking|flirting|messages|sex|physical|emotional|online|words|"
        r"a stupid mistake|a mistake|a moment|a slip|a one-off|a one off|"
        r"a one-night stand|a one night stand)\b",
        r"\b(?:a little|a tiny bit|a little bit|a bit|slightly|somewhat|kind of|kinda|sort of|"
        r"a tad) (?:too )?(?:dishonest|careless|selfish|flirty|secretive|distant|out of line|"
        r"friendly|thoughtless|insensitive|inappropriate|stupid|silly|naughty|irresponsible|"
        r"reckless|close|carried away|over the line|much|far|wrong|untruthful|cheated|lied|"
        r"strayed|messed up)\b",
        r"\b(?:not (?:a |that |such a )?big (?:of a )?deal|no big deal|not the end of the world|"
        r"(?:isn't|wasn't|not) (?:that|so|a) (?:big|serious|bad|important)|"
        r"didn't mean (?:anything|a thing)|meant nothing|no one got hurt|nobody got hurt|"
        r"could have been worse|could've been worse|not as bad as|blown out of proportion|"
        r"not like (?:i|we) (?:slept|had sex|ran off|left))\b",
        r"(?<!told you )(?<!said )\b(?:it|that|this|she|he) (?:was|is|'s) nothing\b"
        r"(?! like| compared| short| but)",
    ),
    rule(
        "blame_partner",
        r"\byou (?:made|forced|pushed|drove|led) me (?:do (?:it|this|that)|cheat|lie|stray|act|"
        r"go|look elsewhere|turn|to|into|away|so (?:angry|lonely|mad)|feel (?:lonely|unwanted|"
        r"ignored|invisible|unloved|neglected|alone|rejected))\b" + _WORDS3,
        r"\bbecause you (?:weren't|never|didn't|don't|wouldn't|kept|always|made|stopped|pushed|"
        r"ignored|neglected|refused|left me|shut me|were (?:never|always|so|too|cold|distant|"
        r"busy|away|working|not|ignoring|pulling))\b" + _WORDS3,
        r"\byou (?:kept |always |were always )?(?:push|pushing|pushed|shut|shutting) me "
        r"(?:away|out)\b",
        r"\bif you hadn't\b" + _WORDS3,
        r"\bif you had not\b" + _WORDS3,
        r"\bif (?:only )?you(?:'d| had| would have| would've) (?:just |only |ever |actually )?"
        r"(?:been|paid|listened|given|spent|shown|noticed|cared|tried|touched|wanted|treated|"
        r"stopped|made time)\b" + _WORDS3,
        r"\byou (?:were|are|'re) (?:never|always) (?:there|home|around|busy|working|away|tired|"
        r"on your phone|interested|angry|cold|distant|available|too busy)\b",
        r"\byou (?:never|didn't|don't|stopped) (?:listen|listened|listening|pay attention|"
        r"paid attention|paying attention|had time|have time|make time|made time|making time|"
        r"touch me|touched me|touching me|want me|wanted me|cared|care|caring|showed|"
        r"appreciated|appreciate)\b",
        r"\b(?:it's|it is|it was|this is|that's) (?:partly |also |half |at least partly )?"
        r"your fault\b",
        r"\byou(?:'re| are) (?:partly |also |half )?to blame\b",
    ),
    rule(
        "excuse",
        r"\bi(?: was|'d been| had been| got) (?:so |very |really |pretty |a bit |a little )?"
        r"(?:drunk|wasted|high|tipsy|hammered|intoxicated|drinking)\b" + _NOT_DISOWNED,
        r"\b(?:it was|blame (?:it on )?|because of|due to|from|with|under) (?:the |all the |my |"
        r"that |too much )?(?:alcohol|drink|drinking|booze|stress|pressure|wine|beer|pills|"
        r"depression)\b",
        r"\b(?:i was|i've been|i'd been|i had been|i felt) (?:so |very |really |pretty |just |"
        r"extremely |incredibly |feeling )?(?:stressed|lonely|depressed|overwhelmed|exhausted|"
        r"vulnerable|neglected|unhappy|burnt out|burned out|under (?:a lot of )?pressure|"
        r"going through (?:a lot|so much|a hard time|a rough patch|stuff)|"
        r"in a (?:bad|dark|weird) place|not myself|not thinking(?: straight)?|confused|bored)\b"
        + _NOT_DISOWNED,
        r"\b(?:work|life|things|my job|the job|my mental health) (?:was|were|had been|has been) "
        r"(?:so |really |very |just )?(?:stressful|hard|crazy|difficult|overwhelming|a lot|"
        r"intense|rough|tough|busy)\b",
        r"\b(?:it was|that was|we were in|we were going through|during) (?:a )?"
        r"(?:really |very |such a )?(?:hard|difficult|tough|bad|rough|dark|stressful|weird|"
        r"strange|crazy) (?:time|year|period|patch|phase|few months|week|month|place)\b",
        r"\b(?:she|he|they) (?:came on to me|came onto me|seduced me|pursued me|started it|"
        r"made the first move|kept (?:texting|messaging|calling|pushing|chasing)|"
        r"threw (?:herself|himself|themselves) at me|wouldn't leave me alone)\b",
        r"\bi (?:couldn't|could not) (?:help (?:it|myself)|stop (?:myself|it)|"
        r"control (?:it|myself))\b",
        r"\bi (?:had no|didn't have a|didn't have any|did not have a) choice\b",
        r"\b(?:anyone|anybody|any (?:man|woman|guy|person)) (?:would have|would've|"
        r"in my (?:shoes|position|place))\b",
        r"\bi(?:'m| am) only human\b",
        r"\bi (?:got|was) (?:caught up|swept up|carried away)\b",
        r"\b(?:a )?moment of (?:weakness|madness)\b",
    ),
)

CHECK = TextCheck("apology", _RULES)
RULE_IDS: tuple[str, ...] = CHECK.rules


def run(text: str) -> tuple[Finding, ...]:
    return CHECK.run(text)
