"""The words of bench/data/conversations.py: names, places, and the templates of turns and
questions (slots in braces are filled per user)."""

from __future__ import annotations


def _w(text: str) -> list[str]:
    return text.split()


NAMES_F = _w(
    "Lena Priya Sofia Hana Ines Olga Marta Nadia Elif Rosa Chloe Amira Zoe Mei Greta Leila Freya"
    " Anouk Carmen Yara Dalia Noor Vera Ingrid"
)
NAMES_M = _w(
    "Tomas Ravi Jonas Omar Pavel Diego Kenji Lars Malik Felix Yusuf Bruno Arjun Theo Nikolai"
    " Emil Hugo Mateo Sami Anton Luca Idris Oskar Rafael"
)
SURNAMES = _w("Okafor Lindqvist Moreau Tanaka Kowalski Ferreira Novak Haddad Brennan Castillo")
CITIES = _w(
    "Lisbon Oslo Krakow Porto Seville Lyon Ghent Tallinn Bergen Valencia Bologna Dublin Graz"
)
COUNTRIES = _w("Japan Peru Morocco Iceland Vietnam Chile Kenya Norway Greece Mexico Portugal")
PLACES = _w("Ridgeback Foxglove Eagle Cedar Granite Hollow Pine Larkspur Raven Juniper Thorn")
BANDS = _w("Arcadia Blue-Lanterns Velvet-Owls Northbound Glasshouse Saltwater Paper-Kites")
JOBS = _w("nurse architect chef pilot teacher engineer paramedic florist lawyer baker")
MONTHS = _w("January February March April May June July August September October November")
WEEKDAYS = _w("Monday Tuesday Wednesday Thursday Friday Saturday Sunday")
RELATIONS_F = ["sister", "cousin", "aunt", "best friend"]
RELATIONS_M = ["brother", "uncle", "cousin", "flatmate"]

# (fact, questions, [distractors]): distractors share the fact's words but say something else.
SINGLE = [
    (
        "I finally signed up for {hobby} lessons, every {day} evening at the community centre.",
        (
            "What new pastime did I start learning?",
            "What lessons did I sign up for at the community centre?",
        ),
        [
            "The community centre is closed on {day2} for repairs.",
            "My neighbour wants me to sign up for a cooking evening at the centre.",
        ],
    ),
    (
        "The doctor confirmed I'm allergic to {allergen}, so no more of that for me.",
        (
            "Which food do I have to stay away from for health reasons?",
            "What did the doctor say I am allergic to?",
        ),
        [
            "I told the doctor about my back pain again.",
            "We had {allergen2} at the party and everyone loved it.",
        ],
    ),
    (
        "We adopted a {pet} from the shelter and called her {petname}.",
        (
            "What is the name of the animal we took home?",
            "What did we call the pet we adopted from the shelter?",
        ),
        [
            "The shelter is looking for volunteers on weekends.",
            "My friend's {pet2} keeps escaping from the garden.",
        ],
    ),
    (
        "My car broke down again, the mechanic says the {part} is shot.",
        ("What is wrong with my vehicle?", "What part of my car does the mechanic say is broken?"),
        [
            "I drove to the mechanic to pick up a friend.",
            "The car park at work is full every morning.",
        ],
    ),
    (
        "I got promoted to senior {job} last week, still can't believe it.",
        ("What title did I get at the office recently?", "What was I promoted to at work?"),
        [
            "A {job2} from the other team left last week.",
            "I can't believe how busy work was last week.",
        ],
    ),
    (
        "I'm learning {language} with an app before the trip next spring.",
        ("Which language am I studying?", "Which language am I learning with the app?"),
        [
            "The app keeps crashing on my phone.",
            "We are planning a trip for next spring, maybe somewhere warm.",
        ],
    ),
    (
        "The wifi password at the cabin is {code}, write it down somewhere.",
        ("What do I type to get online at the cabin?", "What is the wifi password at the cabin?"),
        [
            "The cabin has no phone signal at all.",
            "I changed my email password yesterday.",
        ],
    ),
    (
        "I've been reading {book} before bed, I'm halfway through.",
        (
            "What novel is on my nightstand at the moment?",
            "Which book have I been reading before bed?",
        ),
        [
            "I went to bed early, reading makes me sleepy.",
            "My book club picked something I didn't like.",
        ],
    ),
    (
        "My grandmother's {dish} was the best thing I ate as a kid.",
        (
            "What meal reminds me of my childhood?",
            "What dish did my grandmother make when I was a kid?",
        ),
        [
            "My grandmother called, she is doing fine.",
            "The kid next door ate all the cookies.",
        ],
    ),
    (
        "I'm saving up to buy a house with a big garden near {city}.",
        ("Where am I hoping to own property?", "Near which city do I want to buy a house?"),
        [
            "The garden needs a lot of work this year.",
            "Saving money is hard with rent going up.",
        ],
    ),
]

HOBBIES = _w("pottery salsa violin bouldering watercolour fencing archery ceramics tango")
ALLERGENS = _w("shellfish peanuts sesame kiwi mustard celery walnuts")
PETS = _w("beagle tabby greyhound rabbit terrier ferret parrot")
PETNAMES = _w("Biscuit Pickle Mochi Juniper Waffles Pepper Noodle Clover Ziggy")
PARTS = ["gearbox", "alternator", "clutch", "radiator", "timing belt", "starter motor"]
LANGUAGES = _w("Portuguese Korean Turkish Dutch Greek Swahili Polish Finnish")
BOOKS = [
    "The Salt Road",
    "A Winter Orchard",
    "Nine Lanterns",
    "The Quiet Harbour",
    "Ember and Ash",
    "The Glass Meridian",
]
DISHES = ["plum dumplings", "lentil soup", "apple strudel", "cabbage rolls", "fish stew"]

SMALL_TALK = [
    "{name} and I went to the {venue} on {day}, it was {mood}.",
    "Work was {mood} today, {count} meetings back to back.",
    "I think it's going to rain all {day}.",
    "Did you see the {sport} game last night? What a finish.",
    "I need to buy {grocery} and coffee tomorrow.",
    "Thinking about repainting the {room} {colour}.",
    "The {line} train was late again this morning.",
    "We watched a documentary about {animal}, pretty good.",
    "I should really go to the gym more, maybe on {day}s.",
    "Traffic on the way home from the {venue} was terrible.",
    "I cooked {food} for dinner, nothing fancy.",
    "My back hurts from sitting at the desk all day.",
    "I finally cleaned out the {room}.",
    "Thinking of taking {day} off next week.",
    "The new cafe on {street} Street makes great pastries.",
    "{name} left an umbrella at my place again.",
    "We had {name} and {name2} over for a board game night.",
    "Trying to drink less coffee, day {count} and it's not going well.",
    "My {relation} called, we talked for an hour about {topic}.",
    "A friend of mine just came back from {country}, full of stories.",
    "{name} from work is moving to another city soon.",
    "I was at a concert years ago where it rained the whole time.",
    "Hiking is on my list for the summer, we'll see.",
    "My {relation} keeps sending me photos of a {animal}.",
    "I booked a dentist appointment for {month}, finally.",
    "The flight prices to {city} for next month are crazy.",
    "My manager wants a new report every {day} now.",
    "{name} is looking for a new job as a {job}.",
    "We might visit {city} in {month}, nothing booked yet.",
    "{name} recommended a book but I forgot the title.",
    "The {venue} near us is closing at the end of {month}.",
    "Our neighbours got a {animal}, it barks all night.",
]
CHATTER_SLOTS = {
    "venue": _w("cinema market museum park library pool stadium bakery theatre"),
    "mood": ["fun", "exhausting", "lovely", "a bit boring", "intense", "relaxing"],
    "sport": _w("football tennis basketball hockey rugby"),
    "grocery": _w("eggs rice apples bread cheese tomatoes"),
    "room": ["garage", "attic", "kitchen", "spare room", "hallway", "bathroom"],
    "colour": _w("green white grey blue yellow"),
    "line": _w("7:40 8:15 north east express"),
    "animal": _w("whales octopuses wolves bees elephants owls"),
    "food": ["pasta", "curry", "soup", "tacos", "a stir fry", "risotto"],
    "street": _w("Mill Bridge Station Church Harbour Elm"),
    "topic": ["nothing", "her garden", "politics", "old school friends", "the holidays"],
    "count": [str(n) for n in range(2, 9)],
}
REPLIES = [
    "That sounds {mood}! Tell me more about {echo}.",
    "Oh, {echo}? How do you feel about it?",
    "I'll remember that about {echo}.",
    "Interesting. What made you think of {echo}?",
    "Got it. Anything else on your mind besides {echo}?",
    "Ha, {echo} again! You mention it a lot.",
]
MOODS = ["great", "exhausting", "lovely", "intense", "fun", "stressful"]


OPENERS = [
    "Ugh, long day.",
    "Quick update before I forget.",
    "Random thought, sorry.",
    "Okay so, news.",
    "Not much happening this week.",
    "Sorry, I was offline for a bit.",
]
"""Sentences a real turn often starts with before it gets to the point."""

THINGS = [
    "road bike",
    "espresso machine",
    "standing desk",
    "camera",
    "sofa",
    "keyboard",
    "tent",
    "sewing machine",
]

# aggregate: (three ways of telling one occurrence, a turn that is about it but is not one,
# question phrasings); {x} is the occurrence, {y} another one nobody went to
AGGREGATES = {
    "hike": (
        [
            "We hiked up to {x} ridge on Saturday, my legs are dead.",
            "Did the {x} trail today, the views from the top were unreal.",
            "Another long walk in the hills: {x} pass, six hours up and down.",
        ],
        "Someday I want to hike {y} ridge, maybe next year.",
        ("Where have I been hiking lately?", "Which trails have I done this year?"),
    ),
    "concert": (
        [
            "Saw {x} live last night, the crowd was amazing.",
            "{x} played three encores, best gig of the year.",
            "Got home at 2am after the {x} show, my ears are still ringing.",
        ],
        "{y} are touring in the autumn, tickets sold out in minutes.",
        ("Which bands have I seen live?", "What concerts did I go to?"),
    ),
    "restaurant": (
        [
            "Dinner at {x} tonight, the tasting menu was worth every cent.",
            "Tried {x} for lunch, best food I've had in ages.",
            "{x} was fully booked but they squeezed us in at the bar, great food.",
        ],
        "{y} just got a terrible review in the local paper.",
        ("Which restaurants have I eaten at recently?", "Where did I go out to eat?"),
    ),
    "race": (
        [
            "Ran the {x} 10k this morning, a new personal best.",
            "Finished the {x} half marathon, my knees are complaining.",
            "The {x} fun run was all mud but I made it to the end.",
        ],
        "Thinking about signing up for the {y} relay, not sure yet.",
        ("Which races have I run?", "What running events did I take part in?"),
    ),
    "book": (
        [
            "Finished {x} last night, the ending got me.",
            "Just closed {x}, slow start but a great last chapter.",
            "Done with {x}, I'm lending it to my neighbour.",
        ],
        "Someone recommended {y} but I haven't started it.",
        ("Which books have I finished?", "What have I read to the end lately?"),
    ),
    "trip": (
        [
            "Back from {x}, jet-lagged but happy.",
            "Our week in {x} was the best holiday in years.",
            "Landed home from {x} last night, still unpacking the suitcases.",
        ],
        "My colleague keeps telling me to visit {y}.",
        ("Which countries did I travel to this year?", "Where have I been on holiday?"),
    ),
}
AGGREGATE_POOLS = {
    "hike": _w("Ridgeback Foxglove Eagle Cedar Granite Hollow Pine Larkspur Raven Juniper Thorn"),
    "concert": _w("Arcadia Blue-Lanterns Velvet-Owls Northbound Glasshouse Saltwater Paper-Kites"),
    "restaurant": ["Casa Lume", "Bistro Nord", "The Copper Pot", "Sakura Tei", "Mesa Verde"],
    "race": ["Riverside", "Harbour", "Old Town", "Lakeside", "Castle Hill", "Canal"],
    "book": ["The Long Tide", "Paper Birds", "North of Midnight", "The Ninth Door", "Stillwater"],
    "trip": _w("Japan Peru Morocco Iceland Vietnam Chile Kenya Norway Greece Mexico"),
}

# update: three turns changing one fact (the last one holds); {x} the value at that time
UPDATES = {
    "home": (
        [
            "We moved into a flat in {x}, still unpacking boxes.",
            "Big news: we're relocating to {x}, the lease starts next month.",
            "Settled into the new place in {x}, love the neighbourhood.",
        ],
        ("Where do we live these days?", "Which city is our flat in now?"),
    ),
    "job": (
        [
            "Started a new position as a {x} this month, first days are hectic.",
            "I quit and took a job as a {x}, better hours.",
            "Switched careers again, I'm a {x} now and loving it.",
        ],
        ("What is my current job?", "What do I do for a living now?"),
    ),
    "car": (
        [
            "We bought a used {x}, it drives fine.",
            "Got rid of the old car, we drive a {x} now.",
            "New car day: picked up a {x} this morning.",
        ],
        ("What car do we drive now?", "Which car do I own at the moment?"),
    ),
    "gym": (
        [
            "I'm going to the gym on {x}s now, before work.",
            "Changed my gym days, {x}s work better with the new schedule.",
            "From now on it's {x}s at the gym, the only free evening I have.",
        ],
        ("Which day do I work out these days?", "When do I go to the gym now?"),
    ),
    "manager": (
        [
            "My new manager is {x}, seems nice so far.",
            "Reorg again, I report to {x} now.",
            "{x} is my boss from Monday, third manager this year.",
        ],
        ("Who is my manager now?", "Who do I report to at work at the moment?"),
    ),
    "rent": (
        [
            "Our rent is {x} a month, not bad for the area.",
            "The landlord raised the rent to {x}.",
            "Rent went up again, {x} euros from next month.",
        ],
        ("How much rent do we pay now?", "What does our flat cost us per month?"),
    ),
}
CARS = ["Skoda Octavia", "Toyota Yaris", "Volvo V60", "Renault Clio", "Mazda 3", "Kia Niro"]

RELATIONS = [
    ("sister", True),
    ("brother", False),
    ("aunt", True),
    ("uncle", False),
    ("niece", True),
    ("nephew", False),
    ("flatmate", False),
    ("godmother", True),
]
INTRODUCTIONS = [
    "My {relation} {name} is the funniest person I know.",
    "Had a long call with my {relation}, {name}, we laughed a lot.",
    "My {relation} {name} came over for dinner, it was nice to catch up.",
]
