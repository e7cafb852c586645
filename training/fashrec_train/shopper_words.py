"""Other words shoppers use for the catalog's attribute values, to reword training phrasings.

The words head learns which catalog values a text states. Trained on phrasings in the catalog's
own words only, it ignores "oxblood", "rucksack" or "for her"; MiniLM places such words near the
catalog's, but the head never learnt to read them. `reword` rewrites generated phrasings with
these words, keeping what each states, and `pad` puts words around them that state nothing. Each
word below names exactly one catalog value among those its category has ("off-white" is white
where the category has white and cream where it has cream: no category has both; a word two
values of one category could claim is left out). Written from common fashion vocabulary; no
held-out query file was read for it. The second, wider version (2026-12-03) followed the misses
of attribute_queries_6.jsonl, then already evaluated: words it lacked such as "ice blue", "MK",
"Blunnies" or "duvet jacket" led to filling every table, generic category nouns and fillers out
from general knowledge; attribute_queries_7.jsonl, written before this version, judges it.
"""

from __future__ import annotations

import re

import numpy as np

COLOURS = {
    "black": ["jet black", "onyx", "ebony", "pitch black", "coal black", "all-black"],
    "white": ["snow white", "optic white", "bright white", "pure white", "chalk white", "all-white",
              "off-white"],
    "grey": ["gray", "charcoal", "slate", "ash grey", "heather grey", "marl grey", "dove grey", "steel grey",
             "light grey", "dark grey"],
    "navy": ["navy blue", "midnight blue", "dark blue", "ink blue", "french navy", "deep navy"],
    "red": ["scarlet", "crimson", "cherry red", "tomato red", "brick red", "ruby", "fire-engine red"],
    "blue": ["royal blue", "cobalt", "mid blue", "azure", "electric blue", "bright blue", "sapphire",
             "denim blue"],
    "light blue": ["pale blue", "sky blue", "baby blue", "powder blue", "ice blue", "pastel blue",
                   "duck-egg blue"],
    "green": ["emerald", "forest green", "bottle green", "kelly green", "sage green", "mint green", "jade",
              "grass green", "apple green"],
    "yellow": ["mustard", "lemon", "canary yellow", "sunflower yellow", "butter yellow", "pastel yellow"],
    "pink": ["blush", "rose pink", "baby pink", "dusty pink", "hot pink", "fuchsia", "salmon pink",
             "pastel pink", "bubblegum pink"],
    "beige": ["sand", "oatmeal", "stone", "nude", "biscuit", "light beige"],
    "brown": ["chocolate", "chestnut", "cognac", "espresso", "dark brown", "coffee", "mocha", "tobacco",
              "walnut", "cocoa"],
    "burgundy": ["oxblood", "maroon", "wine", "bordeaux", "claret", "merlot", "garnet", "wine red"],
    "camel": ["caramel", "camel brown", "toffee", "camel-coloured"],
    "cream": ["ivory", "ecru", "vanilla", "bone", "off-white", "winter white"],
    "gold": ["golden", "metallic gold", "gold-tone"],
    "olive": ["olive green", "army green", "military green", "moss green", "moss", "dark olive"],
    "khaki": ["khaki green", "safari khaki", "sand khaki"],
    "silver": ["metallic silver", "silvery", "pewter", "chrome", "silver-tone"],
    "tan": ["light brown", "tan brown", "saddle tan", "honey tan"],
    "taupe": ["mushroom", "greige", "mink", "taupe grey"],
}

MATERIALS = {
    "leather": ["genuine leather", "real leather", "full-grain leather", "nappa", "calfskin", "cowhide",
                "smooth leather"],
    "faux leather": ["vegan leather", "pu leather", "pleather", "leatherette", "faux-leather",
                     "imitation leather"],
    "suede": ["brushed suede", "soft suede", "suede leather", "split suede"],
    "nubuck": ["nubuck leather", "sanded leather"],
    "cotton": ["100% cotton", "pure cotton", "soft cotton", "all-cotton"],
    "organic cotton": ["eco cotton", "sustainable cotton", "organic", "gots cotton"],
    "jersey": ["jersey knit", "soft jersey", "stretch jersey"],
    "polyester": ["poly", "polyester fabric"],
    "recycled polyester": ["recycled poly", "rpet", "recycled fabric", "recycled plastic"],
    "modal blend": ["modal", "micromodal", "modal mix"],
    "linen": ["pure linen", "flax", "100% linen"],
    "linen blend": ["linen mix", "linen-cotton", "linen-blend", "part linen"],
    "denim": ["rigid denim", "jean fabric", "raw denim", "selvedge denim"],
    "stretch denim": ["stretchy denim", "denim with stretch", "super-stretch denim"],
    "cotton stretch": ["stretch cotton", "stretchy cotton", "cotton with stretch"],
    "wool": ["pure wool", "100% wool", "lambswool", "virgin wool", "shetland wool"],
    "wool blend": ["wool mix", "wool-rich", "part wool", "wool-blend"],
    "merino wool": ["merino", "fine merino", "extra-fine merino"],
    "cashmere": ["pure cashmere", "cashmere knit", "100% cashmere"],
    "cotton twill": ["twill", "twill cotton", "cotton drill"],
    "ripstop nylon": ["ripstop", "rip-stop"],
    "cotton fleece": ["fleece", "brushed fleece", "loopback cotton", "fleecy cotton", "sweatshirt fabric"],
    "viscose": ["rayon", "viscose rayon"],
    "chiffon": ["sheer chiffon", "floaty chiffon"],
    "crepe": ["crêpe", "crepe fabric"],
    "satin": ["silky satin", "satin fabric", "duchess satin"],
    "silk": ["pure silk", "mulberry silk", "100% silk", "washed silk"],
    "velvet": ["crushed velvet", "velour", "velvet fabric"],
    "cotton gabardine": ["gabardine", "cotton gab"],
    "nylon": ["nylon fabric", "nylon shell", "technical nylon"],
    "down": ["down-filled", "goose down", "duck down", "down filling", "feather down"],
    "flannel": ["brushed flannel", "flannel fabric", "cotton flannel"],
    "chambray": ["chambray cotton", "lightweight chambray"],
    "oxford cotton": ["oxford cloth", "oxford weave"],
    "poplin": ["cotton poplin", "broadcloth"],
    "brushed cotton": ["peached cotton", "soft brushed cotton"],
    "cotton pique": ["pique", "piqué", "pique knit", "piqué cotton"],
    "mesh": ["breathable mesh", "air mesh", "mesh upper", "engineered mesh"],
    "knit": ["knitted upper", "knit upper", "sock knit", "knitted fabric"],
    "canvas": ["cotton canvas", "duck canvas", "canvas upper"],
    "eva foam": ["eva", "foam", "moulded foam"],
    "cork": ["cork sole", "natural cork"],
    "rubber": ["natural rubber", "all-rubber"],
    "synthetic": ["man-made", "manmade materials", "synthetic fabric", "synthetics"],
    "straw": ["woven straw", "raffia", "wicker"],
    "jute": ["hessian", "burlap", "jute rope"],
    "nylon webbing": ["webbing", "strap webbing", "nylon straps"],
    "sheepskin": ["shearling", "sheepskin-lined", "genuine sheepskin"],
    "waterproof leather": ["water-resistant leather", "weatherproof leather", "waterproofed leather"],
    "waxed cotton": ["wax cotton", "waxed fabric", "waxed canvas"],
}

OCCASIONS = {
    "office": ["work", "the workplace", "workwear", "the 9 to 5", "work days"],
    "business": ["business meetings", "client meetings", "corporate events", "the boardroom"],
    "formal": ["black tie", "formal events", "a gala", "a ball", "formalwear"],
    "wedding": ["weddings", "a wedding", "wedding guests", "a friend's wedding"],
    "party": ["parties", "a night out", "clubbing", "a birthday party", "going out"],
    "evening": ["evenings out", "dinner out", "evening wear", "the evening"],
    "date night": ["a date", "dates", "a romantic dinner", "date-night"],
    "casual": ["casual wear", "off-duty days", "laid-back days", "casual days"],
    "everyday": ["daily wear", "every day", "day-to-day", "daily use"],
    "weekend": ["weekends", "saturdays", "days off", "the weekend"],
    "lounge": ["lounging", "loungewear", "staying in", "around the house", "relaxing at home"],
    "sport": ["sports", "athletics", "playing sport", "sporty days"],
    "gym": ["workouts", "working out", "fitness", "exercise", "the gym"],
    "outdoor": ["outdoor trips", "camping", "the trails", "hiking", "the outdoors", "country walks"],
    "travel": ["travelling", "traveling", "trips", "a trip", "journeys"],
    "beach": ["the seaside", "poolside", "beach days", "the pool", "the coast"],
    "summer": ["summertime", "hot weather", "warm days", "heatwaves", "the summer"],
    "winter": ["cold weather", "wintertime", "the cold", "snowy days", "freezing weather"],
}

GENDER_WORDS = {
    "men's": ["mens", "male", "guys'", "gents'", "man's"],
    "for men": ["for him", "for guys", "for gents", "for my husband", "for my boyfriend", "for my dad"],
    "women's": ["womens", "ladies'", "ladies", "female", "woman's"],
    "for women": ["for her", "for ladies", "for my wife", "for my girlfriend", "for my mum"],
    "unisex": ["gender-neutral", "genderless", "for anyone"],
}

# Keyed by the catalog's noun of a style (the product names' words, train_words.nouns).
STYLE_NOUNS = {
    "basic t-shirt": ["plain tee", "essential tee", "plain t-shirt", "basic tee"],
    "graphic tee": ["printed tee", "slogan tee", "logo tee", "print t-shirt", "band tee"],
    "sports top": ["workout top", "athletic top", "gym top", "training top", "performance tee"],
    "oversized t-shirt": ["boxy tee", "baggy t-shirt", "loose-fit tee", "oversized tee", "relaxed-fit tee"],
    "slim-fit t-shirt": ["fitted tee", "slim tee", "muscle-fit tee", "fitted t-shirt"],
    "v-neck top": ["v neck top", "vee-neck top", "v-neck tee", "v-neck t-shirt"],
    "polo shirt": ["polo top", "polo tee", "polo"],
    "crop top": ["cropped top", "cropped tee", "crop tee"],
    "slim-fit trousers": ["slim trousers", "slim-fit pants", "tapered trousers", "slim fit trousers"],
    "straight-leg jeans": ["straight leg jeans", "straight cut jeans", "regular-fit jeans", "straight jeans"],
    "skinny jeans": ["skinnies", "super skinny jeans", "skinny-fit jeans", "jeggings"],
    "wide-leg trousers": ["wide leg trousers", "palazzo trousers", "palazzo pants", "wide-leg pants"],
    "chinos": ["chino pants", "chino trousers", "chino"],
    "cargo trousers": ["cargo pants", "cargos", "combat trousers", "utility trousers"],
    "joggers": ["jogging bottoms", "track pants", "sweatpants", "trackies", "jogger pants"],
    "tailored trousers": ["suit trousers", "dress pants", "dress trousers", "formal trousers", "suit pants"],
    "crew-neck sweater": ["crewneck sweater", "round-neck jumper", "crew neck jumper", "crewneck",
                          "crew-neck jumper"],
    "v-neck sweater": ["v neck jumper", "vee-neck sweater", "v-neck jumper"],
    "turtleneck sweater": ["roll neck jumper", "polo neck sweater", "turtleneck", "rollneck", "polo neck"],
    "cable-knit jumper": ["cable knit sweater", "aran jumper", "fisherman jumper", "fisherman sweater",
                          "cable jumper"],
    "hoodie": ["hooded sweatshirt", "hoody", "hooded top", "hooded jumper", "zip-up hoodie"],
    "sweatshirt": ["sweat top", "crew sweat", "sweater shirt"],
    "maxi dress": ["floor-length dress", "long dress", "maxi", "ankle-length dress"],
    "midi dress": ["mid-length dress", "calf-length dress", "midi"],
    "mini dress": ["short dress", "minidress", "mini"],
    "wrap dress": ["wrap-around dress", "wrap-front dress", "faux-wrap dress"],
    "shirt dress": ["shirtdress", "shirt-dress", "shirtwaister", "button-through dress"],
    "cocktail dress": ["cocktail frock", "cocktail gown"],
    "evening gown": ["ball gown", "floor-length gown", "gown", "evening dress"],
    "sundress": ["sun dress", "strappy summer frock"],
    "knitted dress": ["jumper dress", "sweater dress", "knit dress", "knitted frock"],
    "trench coat": ["trenchcoat", "belted trench", "trench"],
    "parka": ["anorak", "fishtail parka", "parka coat", "parka jacket"],
    "puffer jacket": ["puffa jacket", "padded jacket", "quilted puffer", "duvet jacket", "puffer coat",
                      "quilted jacket", "puffy jacket"],
    "overcoat": ["topcoat", "long wool coat", "crombie", "tailored coat"],
    "peacoat": ["pea coat", "reefer jacket", "pea jacket", "reefer coat"],
    "raincoat": ["rain jacket", "rain mac", "mac", "mackintosh", "rain coat"],
    "biker jacket": ["moto jacket", "motorcycle jacket", "perfecto jacket", "biker"],
    "flip-flops": ["thongs", "flip flops", "jandals", "toe-post sandals"],
    "slides": ["sliders", "pool slides", "slide sandals"],
    "gladiator sandals": ["gladiators", "gladiator flats", "roman sandals"],
    "sport sandals": ["hiking sandals", "trekking sandals", "walking sandals", "sports sandals"],
    "footbed sandals": ["contoured footbed sandals", "moulded footbed sandals", "comfort sandals"],
    "strappy sandals": ["strap sandals", "multi-strap sandals", "barely-there sandals"],
    "wedge sandals": ["wedges", "wedge heels", "wedge-heel sandals"],
    "heeled sandals": ["high-heeled sandals", "block-heel sandals", "stiletto sandals"],
    "formal shirt": ["dress shirt", "smart shirt", "business shirt", "suit shirt"],
    "flannel shirt": ["lumberjack shirt", "plaid flannel", "checked flannel", "plaid shirt"],
    "denim shirt": ["jean shirt", "denim overshirt"],
    "hawaiian shirt": ["aloha shirt", "tropical print shirt", "tropical shirt"],
    "button-down shirt": ["button down shirt", "button-down collar shirt", "button-down"],
    "running shoes": ["runners", "running trainers", "running sneakers", "jogging shoes"],
    "lace-up sneakers": ["lace-ups", "lace up trainers", "lace-up trainers"],
    "slip-on sneakers": ["slip ons", "laceless sneakers", "slip-on trainers", "slip-ons"],
    "high-top sneakers": ["high tops", "hi-tops", "high-top trainers", "hightops"],
    "retro trainers": ["vintage trainers", "old-school sneakers", "retro sneakers", "throwback sneakers"],
    "training shoes": ["cross-trainers", "gym shoes", "gym trainers", "workout shoes"],
    "platform sneakers": ["chunky-sole sneakers", "flatform sneakers", "platform trainers"],
    "tote bag": ["shopper bag", "tote", "carryall", "shopper"],
    "backpack": ["rucksack", "daypack", "back pack", "knapsack", "bookbag"],
    "crossbody bag": ["cross-body bag", "cross body bag", "crossbody", "cross-body purse"],
    "shoulder bag": ["shoulder purse", "over-the-shoulder bag", "hobo bag"],
    "duffel bag": ["holdall", "weekender bag", "duffle bag", "weekender", "duffel"],
    "messenger bag": ["courier bag", "satchel bag", "satchel"],
    "belt bag": ["bum bag", "fanny pack", "waist bag", "hip bag", "bumbag"],
    "clutch": ["clutch purse", "clutch bag", "envelope clutch"],
    "chelsea boots": ["pull-on ankle boots", "chelsea boot", "chelseas", "elastic-sided boots", "dealer boots"],
    "lace-up ankle boots": ["lace-up boots", "lace up ankle boots", "laced boots"],
    "combat boots": ["army boots", "military boots", "combat boot"],
    "western ankle boots": ["cowboy boots", "western booties", "cowboy booties", "western boots"],
    "hiking boots": ["walking boots", "trekking boots", "hikers", "trail boots"],
    "lined winter boots": ["snow boots", "fleece-lined boots", "fur-lined boots", "warm-lined boots"],
    "desert boots": ["chukka boots", "chukkas", "desert boot"],
    "heeled ankle boots": ["heeled booties", "high-heel ankle boots", "heeled boots", "block-heel boots"],
}

# What shoppers call a category's products when they name no style: they replace the catalog's
# generic nouns (train_words.nouns: "boots", "sneakers"), which state the category and nothing else.
CATEGORY_NOUNS = {
    "T-shirt/top": ["tee", "tees", "top", "tshirt", "t shirt"],
    "Trouser": ["pants", "slacks", "bottoms", "trousers"],
    "Pullover": ["jumper", "knitwear", "sweater", "pullover"],
    "Dress": ["frock", "dress", "dresses"],
    "Coat": ["jacket", "outerwear", "coat"],
    "Sandal": ["sandals", "open-toe shoes"],
    "Shirt": ["button-up shirt", "shirt", "woven shirt"],
    "Sneaker": ["trainers", "kicks", "sneakers", "sneaks", "tennis shoes"],
    "Bag": ["handbag", "purse", "bag", "carry bag"],
    "Ankle boot": ["booties", "ankle boots", "short boots", "boots"],
}

BRANDS = {
    "Levi's": ["Levis", "Levi", "Levi Strauss"],
    "The North Face": ["North Face", "TNF", "Northface"],
    "Dr. Martens": ["Doc Martens", "Docs", "DMs", "Dr Martens", "Doc Marten", "Dr Marten"],
    "Diane von Furstenberg": ["DVF", "von Furstenberg"],
    "Tommy Hilfiger": ["Tommy", "Hilfiger"],
    "Ralph Lauren": ["Polo Ralph Lauren", "RL", "Lauren"],
    "& Other Stories": ["Other Stories", "and Other Stories"],
    "Fjallraven": ["Fjällräven", "Fjall Raven"],
    "New Balance": ["NB"],
    "Hugo Boss": ["Boss", "HUGO"],
    "Michael Kors": ["MK", "Kors", "Michael Kors Collection"],
    "Kate Spade": ["Kate Spade New York"],
    "Timberland": ["Timbs", "Timberlands", "Timbos"],
    "Blundstone": ["Blunnies", "Blundstones", "Blunnys"],
    "Converse": ["Chucks", "Converse All Stars", "All Stars"],
    "H&M": ["H and M", "HM", "H & M"],
    "Charles Tyrwhitt": ["Tyrwhitt", "CT shirts"],
    "Benetton": ["United Colors of Benetton"],
    "Steve Madden": ["Madden"],
    "Ted Baker": ["Ted"],
    "Adidas": ["adidas Originals"],
    "Herschel": ["Herschel Supply"],
    "Columbia": ["Columbia Sportswear"],
}

# Words around a phrasing that state nothing ("looking for ...", "... please").
FILLER_BEFORE = ["looking for", "I need", "I want", "show me", "searching for", "any", "do you have",
                 "need some", "nice", "cute", "comfortable", "stylish", "affordable", "cheap", "good quality",
                 "new", "something like", "where can I find"]
FILLER_AFTER = ["please", "on sale", "under 50", "under 100", "in my size", "size M", "with free delivery",
                "that fits well", "for a good price", "asap"]


TABLES = {"colour": COLOURS, "material": MATERIALS, "occasion": OCCASIONS, "brand": BRANDS}


def _table(block: str, value: str) -> list[str]:
    return TABLES[block].get(value.lower() if block == "material" else value, [])


def _swap(text: str, old: str, new: str) -> str | None:
    """`text` with its first `old` (case-insensitive, whole words) replaced, or None."""
    pattern = re.compile(r"(?<![\w'-])" + re.escape(old) + r"(?![\w'-])", re.IGNORECASE)
    out, n = pattern.subn(new, text, count=1)
    return out if n else None


def reword(text: str, stated: dict, noun: str | None, generic: list[str], phrase: str | None,
           rng: np.random.Generator, share: float = 0.6) -> str:
    """`text` with each stated attribute's words replaced by a shopper's, each with chance
    `share` (the style through its noun, or the category through its `generic` nouns when no
    style is stated; the occasion also through its descriptive phrase)."""
    swaps = []
    for block in ("colour", "material", "brand", "occasion"):
        if block in stated:
            words = [stated[block]] + ([phrase] if block == "occasion" and phrase else [])
            swaps += [(w, _table(block, stated[block])) for w in words]
    if "gender" in stated:
        swaps += list(GENDER_WORDS.items())
    if noun:
        swaps.append((noun, STYLE_NOUNS.get(noun, [])))
    else:  # the longest generic noun in the text ("t-shirt top", not its "top")
        found = [g for g in generic if _swap(text, g, g)]
        if found:
            swaps.append((max(found, key=len), CATEGORY_NOUNS[stated["category"]]))
    for old, options in swaps:
        if options and rng.random() < share:
            text = _swap(text, old, str(rng.choice(options))) or text
    return text


def pad(text: str, rng: np.random.Generator, share: float) -> str:
    """`text` with, each with chance `share`, filler words before it and after it."""
    if rng.random() < share:
        text = f"{rng.choice(FILLER_BEFORE)} {text}"
    if rng.random() < share:
        text = f"{text} {rng.choice(FILLER_AFTER)}"
    return text
