"""Other words shoppers use for the catalog's attribute values, to reword training phrasings.

The words head learns which catalog values a text states. Trained on phrasings in the catalog's
own words only, it ignores "oxblood", "rucksack" or "for her"; MiniLM places such words near the
catalog's, but the head never learnt to read them. `reword` rewrites generated phrasings with
these words, keeping what each states. Each word below names exactly one catalog value in its
category (a word two values could claim, such as "off-white" between white and cream, is left
out). Written from common fashion vocabulary; the held-out query files were not read for it.
"""

from __future__ import annotations

import re

import numpy as np

COLOURS = {
    "black": ["jet black", "onyx", "ebony"],
    "white": ["snow white", "optic white", "bright white"],
    "grey": ["gray", "charcoal", "slate", "ash grey"],
    "navy": ["navy blue", "midnight blue", "dark blue", "ink blue"],
    "red": ["scarlet", "crimson", "cherry red", "tomato red"],
    "blue": ["royal blue", "cobalt", "mid blue", "azure"],
    "light blue": ["pale blue", "sky blue", "baby blue", "powder blue"],
    "green": ["emerald", "forest green", "bottle green", "kelly green"],
    "yellow": ["mustard", "lemon", "canary yellow", "sunflower yellow"],
    "pink": ["blush", "rose pink", "baby pink", "dusty pink", "hot pink"],
    "beige": ["sand", "oatmeal", "stone", "nude"],
    "brown": ["chocolate", "chestnut", "cognac", "espresso", "dark brown"],
    "burgundy": ["oxblood", "maroon", "wine", "bordeaux", "claret"],
    "camel": ["caramel", "camel brown"],
    "cream": ["ivory", "ecru", "vanilla", "bone"],
    "gold": ["golden", "metallic gold"],
    "olive": ["olive green", "army green", "military green", "moss green"],
    "khaki": ["khaki green", "safari khaki"],
    "silver": ["metallic silver", "silvery", "pewter", "chrome"],
    "tan": ["light brown", "tan brown"],
    "taupe": ["mushroom", "greige", "mink"],
}

MATERIALS = {
    "leather": ["genuine leather", "real leather", "full-grain leather", "nappa"],
    "faux leather": ["vegan leather", "pu leather", "pleather", "leatherette"],
    "suede": ["brushed suede", "soft suede"],
    "nubuck": ["nubuck leather", "sanded leather"],
    "cotton": ["100% cotton", "pure cotton"],
    "organic cotton": ["eco cotton", "sustainable cotton"],
    "jersey": ["jersey knit", "soft jersey"],
    "polyester": ["poly", "polyester fabric"],
    "recycled polyester": ["recycled poly", "rpet"],
    "modal blend": ["modal", "micromodal"],
    "linen": ["pure linen", "flax"],
    "linen blend": ["linen mix", "linen-cotton"],
    "denim": ["rigid denim", "jean fabric"],
    "stretch denim": ["stretchy denim", "denim with stretch"],
    "cotton stretch": ["stretch cotton", "stretchy cotton"],
    "wool": ["pure wool", "100% wool", "lambswool"],
    "wool blend": ["wool mix", "wool-rich"],
    "merino wool": ["merino", "fine merino"],
    "cashmere": ["pure cashmere", "cashmere knit"],
    "cotton twill": ["twill", "twill cotton"],
    "ripstop nylon": ["ripstop"],
    "cotton fleece": ["fleece", "brushed fleece", "loopback cotton"],
    "viscose": ["rayon", "viscose rayon"],
    "chiffon": ["sheer chiffon", "floaty chiffon"],
    "crepe": ["crêpe", "crepe fabric"],
    "satin": ["silky satin", "satin fabric"],
    "silk": ["pure silk", "mulberry silk"],
    "velvet": ["crushed velvet", "velour"],
    "cotton gabardine": ["gabardine"],
    "nylon": ["nylon fabric", "nylon shell"],
    "down": ["down-filled", "goose down", "duck down"],
    "flannel": ["brushed flannel", "flannel fabric"],
    "chambray": ["chambray cotton", "lightweight chambray"],
    "oxford cotton": ["oxford cloth", "oxford weave"],
    "poplin": ["cotton poplin", "broadcloth"],
    "brushed cotton": ["peached cotton", "soft brushed cotton"],
    "cotton pique": ["pique", "piqué", "pique knit"],
    "mesh": ["breathable mesh", "air mesh"],
    "canvas": ["cotton canvas", "duck canvas"],
    "eva foam": ["eva", "foam"],
    "cork": ["cork sole", "natural cork"],
    "rubber": ["natural rubber", "all-rubber"],
    "synthetic": ["man-made", "manmade materials", "synthetic fabric"],
    "straw": ["woven straw", "raffia"],
    "jute": ["hessian", "burlap"],
    "nylon webbing": ["webbing", "strap webbing"],
    "sheepskin": ["shearling", "sheepskin-lined"],
    "waterproof leather": ["water-resistant leather", "weatherproof leather"],
    "waxed cotton": ["wax cotton", "waxed fabric"],
}

OCCASIONS = {
    "office": ["work", "the workplace", "workwear"],
    "business": ["business meetings", "client meetings", "corporate events"],
    "formal": ["black tie", "formal events", "a gala"],
    "wedding": ["weddings", "a wedding", "wedding guests"],
    "party": ["parties", "a night out", "clubbing"],
    "evening": ["evenings out", "dinner out", "evening wear"],
    "date night": ["a date", "dates", "a romantic dinner"],
    "casual": ["casual wear", "off-duty days", "laid-back days"],
    "everyday": ["daily wear", "every day", "day-to-day"],
    "weekend": ["weekends", "saturdays", "days off"],
    "lounge": ["lounging", "loungewear", "staying in"],
    "sport": ["sports", "athletics", "playing sport"],
    "gym": ["workouts", "working out", "fitness"],
    "outdoor": ["outdoor trips", "camping", "the trails"],
    "travel": ["travelling", "traveling", "trips"],
    "beach": ["the seaside", "poolside", "beach days"],
    "summer": ["summertime", "hot weather", "warm days"],
    "winter": ["cold weather", "wintertime", "the cold"],
}

GENDER_WORDS = {
    "men's": ["mens", "male", "guys'"],
    "for men": ["for him", "for guys", "for gents"],
    "women's": ["womens", "ladies'", "ladies", "female"],
    "for women": ["for her", "for ladies"],
    "unisex": ["gender-neutral"],
}

# Keyed by the catalog's noun of a style (the product names' words, train_words.nouns).
STYLE_NOUNS = {
    "basic t-shirt": ["plain tee", "essential tee"],
    "graphic tee": ["printed tee", "slogan tee", "logo tee"],
    "sports top": ["workout top", "athletic top", "gym top"],
    "oversized t-shirt": ["boxy tee", "baggy t-shirt", "loose-fit tee"],
    "v-neck top": ["v neck top", "vee-neck top"],
    "polo shirt": ["polo top", "polo tee"],
    "crop top": ["cropped top", "cropped tee"],
    "straight-leg jeans": ["straight leg jeans", "straight cut jeans"],
    "skinny jeans": ["skinnies", "super skinny jeans"],
    "wide-leg trousers": ["wide leg trousers", "palazzo trousers"],
    "chinos": ["chino pants", "chino trousers"],
    "cargo trousers": ["cargo pants", "cargos"],
    "joggers": ["jogging bottoms", "track pants", "sweatpants"],
    "tailored trousers": ["suit trousers", "dress pants", "dress trousers"],
    "crew-neck sweater": ["crewneck sweater", "round-neck jumper", "crew neck jumper"],
    "v-neck sweater": ["v neck jumper", "vee-neck sweater"],
    "turtleneck sweater": ["roll neck jumper", "polo neck sweater", "turtleneck"],
    "cable-knit jumper": ["cable knit sweater", "aran jumper"],
    "hoodie": ["hooded sweatshirt", "hoody"],
    "sweatshirt": ["sweat top", "crew sweat"],
    "maxi dress": ["floor-length dress", "long dress"],
    "midi dress": ["mid-length dress", "calf-length dress"],
    "mini dress": ["short dress", "minidress"],
    "wrap dress": ["wrap-around dress", "wrap-front dress"],
    "shirt dress": ["shirtdress", "shirt-dress"],
    "cocktail dress": ["cocktail frock", "cocktail gown"],
    "evening gown": ["ball gown", "floor-length gown"],
    "sundress": ["sun dress", "strappy summer frock"],
    "knitted dress": ["jumper dress", "sweater dress", "knit dress"],
    "trench coat": ["trenchcoat", "belted trench"],
    "parka": ["anorak", "fishtail parka"],
    "puffer jacket": ["puffa jacket", "padded jacket", "quilted puffer"],
    "overcoat": ["topcoat", "long wool coat"],
    "peacoat": ["pea coat", "reefer jacket"],
    "raincoat": ["rain jacket", "rain mac"],
    "biker jacket": ["moto jacket", "motorcycle jacket", "perfecto jacket"],
    "flip-flops": ["thongs", "flip flops"],
    "slides": ["sliders", "pool slides"],
    "gladiator sandals": ["gladiators", "gladiator flats"],
    "sport sandals": ["hiking sandals", "trekking sandals"],
    "strappy sandals": ["strap sandals", "multi-strap sandals"],
    "wedge sandals": ["wedges", "wedge heels"],
    "heeled sandals": ["high-heeled sandals", "block-heel sandals"],
    "formal shirt": ["dress shirt", "smart shirt"],
    "flannel shirt": ["lumberjack shirt", "plaid flannel"],
    "denim shirt": ["jean shirt", "denim overshirt"],
    "hawaiian shirt": ["aloha shirt", "tropical print shirt"],
    "button-down shirt": ["button down shirt", "button-down collar shirt"],
    "running shoes": ["runners", "running trainers"],
    "slip-on sneakers": ["slip ons", "laceless sneakers"],
    "high-top sneakers": ["high tops", "hi-tops"],
    "retro trainers": ["vintage trainers", "old-school sneakers"],
    "training shoes": ["cross-trainers", "gym shoes"],
    "platform sneakers": ["chunky-sole sneakers", "flatform sneakers"],
    "tote bag": ["shopper bag", "tote"],
    "backpack": ["rucksack", "daypack"],
    "crossbody bag": ["cross-body bag", "cross body bag"],
    "shoulder bag": ["shoulder purse", "over-the-shoulder bag"],
    "duffel bag": ["holdall", "weekender bag", "duffle bag"],
    "messenger bag": ["courier bag", "satchel bag"],
    "belt bag": ["bum bag", "fanny pack", "waist bag"],
    "clutch": ["clutch purse", "clutch bag"],
    "chelsea boots": ["pull-on ankle boots", "chelsea boot"],
    "combat boots": ["army boots", "military boots"],
    "western ankle boots": ["cowboy boots", "western booties"],
    "hiking boots": ["walking boots", "trekking boots"],
    "lined winter boots": ["snow boots", "fleece-lined boots"],
    "desert boots": ["chukka boots", "chukkas"],
    "heeled ankle boots": ["heeled booties", "high-heel ankle boots"],
}

BRANDS = {
    "Levi's": ["Levis", "Levi"],
    "The North Face": ["North Face", "TNF"],
    "Dr. Martens": ["Doc Martens", "Docs", "DMs"],
    "Diane von Furstenberg": ["DVF"],
    "Tommy Hilfiger": ["Tommy"],
    "Ralph Lauren": ["Polo Ralph Lauren"],
    "& Other Stories": ["Other Stories"],
    "Fjallraven": ["Fjällräven"],
    "New Balance": ["NB"],
    "Hugo Boss": ["Boss"],
}


TABLES = {"colour": COLOURS, "material": MATERIALS, "occasion": OCCASIONS, "brand": BRANDS}


def _table(block: str, value: str) -> list[str]:
    return TABLES[block].get(value.lower() if block == "material" else value, [])


def _swap(text: str, old: str, new: str) -> str | None:
    """`text` with its first `old` (case-insensitive, whole words) replaced, or None."""
    pattern = re.compile(r"(?<![\w'-])" + re.escape(old) + r"(?![\w'-])", re.IGNORECASE)
    out, n = pattern.subn(new, text, count=1)
    return out if n else None


def reword(text: str, stated: dict, noun: str | None, phrase: str | None, rng: np.random.Generator,
           share: float = 0.6) -> str:
    """`text` with each stated attribute's words replaced by a shopper's, each with chance
    `share` (the style through its noun, the occasion also through its descriptive phrase)."""
    swaps = []
    for block in ("colour", "material", "brand", "occasion"):
        if block in stated:
            words = [stated[block]] + ([phrase] if block == "occasion" and phrase else [])
            swaps += [(w, _table(block, stated[block])) for w in words]
    if "gender" in stated:
        swaps += list(GENDER_WORDS.items())
    if noun:
        swaps.append((noun, STYLE_NOUNS.get(noun, [])))
    for old, options in swaps:
        if options and rng.random() < share:
            text = _swap(text, old, str(rng.choice(options))) or text
    return text
