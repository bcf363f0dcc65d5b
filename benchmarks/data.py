"""Key sets for the benchmarks: real text embedded with the real model, derived sets that keep its
structure at any size, and Gaussian-random keys as the worst case.

How each set is made (docs/benchmarks.md repeats this):

* **Synthetic titles** (:func:`synthetic_titles`): the 312 bundled titles plus titles built from
  templates per category: "<adjective> <topic> <format>", "How to <task>", "<topic> vs <topic>",
  "<topic> for <audience>", ... (14 categories, ~25 topics each, ~40 adjectives, ~40 formats), and
  word-level mixes of two bundled titles of one category (first half of one + second half of the
  other). Deterministic (seed 0), de-duplicated, shuffled.
* **Real keys** (:func:`real_keys`): the first N of those titles embedded with all-MiniLM-L6-v2,
  batch 64 (cached under .cache/benchmarks). N = 10k and 100k are real embeddings, no synthesis.
* **Derived keys** (:func:`derived_keys`): N vectors from the 100k real ones: key i =
  normalise(e_a + 0.3·u·(e_b − e_a) + 0.3·g/√d), with a and b random real rows, u ~ U(0, 1)
  and g a standard Gaussian vector. Each derived key sits near one real embedding, moved part of
  the way towards another and jittered: it keeps the manifold (clusters by topic) that makes
  graph search work. Calibrated at 100k, where both exist: keys derived from 10k real ones have a
  median nearest-neighbour cosine of about 0.88 (real: 0.87) and a similar tail mass; the
  benchmark reports the derived-vs-real comparison at 100k next to the 1M results.
* **Values** for the scaling runs: V_i = normalise(K_i + 0.75·g_i/√d) (cos(K_i, V_i) ≈ 0.8): unit
  vectors correlated with the keys, as the app's value embeddings are, so output errors are in
  units of an embedding's length.
* **Queries**: the 312 bundled descriptions (human-written sentences, not titles) and 40
  search-box queries, embedded with the same model; they are never keys.
* **Gaussian keys** (:func:`gaussian_keys`): N(0, I) rows normalised to unit length, with
  Gaussian queries. No structure at all: the worst case for approximate search, reported apart.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from benchmarks.common import CACHE

SEED = 0

# fmt: off
TOPICS = {
    "cooking": ["sourdough bread", "garlic pasta", "apple pie", "fried rice", "lemon chicken", "paella", "guacamole",
                "ramen", "banana bread", "tacos", "curry", "pizza dough", "chocolate cake", "omelette", "dumplings",
                "lasagna", "pancakes", "roast vegetables", "sushi rolls", "tomato soup", "meal prep", "pour-over coffee",
                "grilled salmon", "vegan burgers", "cinnamon rolls"],
    "diy": ["leaky faucet", "rusty tools", "epoxy table", "bathroom tiles", "wooden shelf", "drywall patch",
            "garden bed", "deck stain", "kitchen cabinets", "ceiling fan", "door hinge", "workbench", "bird house",
            "fence post", "window seal", "light switch", "laminate floor", "bench vise", "paint job", "toolbox",
            "roof gutter", "garage storage", "plant stand", "picture frame", "bookcase"],
    "finance": ["index funds", "bitcoin", "credit score", "inflation", "stock charts", "retirement savings",
                "real estate", "student loans", "budgeting", "interest rates", "dividends", "emergency fund",
                "tax returns", "mortgage", "day trading", "bonds", "ETFs", "compound interest", "side hustle",
                "crypto wallets", "credit cards", "net worth", "the stock market", "personal loans", "pensions"],
    "fitness": ["push-ups", "plank", "kettlebell swings", "morning yoga", "pilates", "HIIT cardio", "squats",
                "deadlifts", "running", "stretching", "pull-ups", "core workout", "mobility", "muscle gain",
                "fat loss", "jump rope", "resistance bands", "marathon training", "posture", "home workout",
                "bench press", "lunges", "cycling", "rowing", "calisthenics"],
    "gaming": ["indie games", "gaming PC", "co-op games", "esports finals", "survival games", "puzzle games",
               "retro consoles", "speedruns", "boss fights", "open-world RPGs", "strategy games", "racing games",
               "horror games", "platformers", "Minecraft builds", "game mods", "VR games", "fighting games",
               "city builders", "roguelikes", "pixel art games", "game soundtracks", "handheld consoles",
               "card games", "shooter games"],
    "ml_lectures": ["attention", "transformers", "backpropagation", "gradient descent", "word embeddings",
                    "softmax", "positional encoding", "vector databases", "cosine similarity", "recommender systems",
                    "convolutional networks", "reinforcement learning", "decision trees", "overfitting",
                    "batch normalization", "dropout", "language models", "diffusion models", "k-means clustering",
                    "logistic regression", "self-attention", "tokenization", "fine-tuning", "RNNs", "autoencoders"],
    "music": ["piano chords", "bass lines", "jazz voicings", "music theory", "beat making", "guitar solos",
              "drum grooves", "lo-fi beats", "songwriting", "mixing vocals", "synth sounds", "acoustic covers",
              "ear training", "sight reading", "ukulele songs", "violin scales", "music production", "bass drops",
              "chord progressions", "singing technique", "study music", "road trip playlists", "live sets",
              "orchestral scores", "album reviews"],
    "nature": ["coral reefs", "elephants", "jaguars", "honeybees", "monarch butterflies", "rainforests",
               "sandhill cranes", "wolves", "humpback whales", "penguins", "volcanoes", "desert wildlife",
               "owls", "octopuses", "bird migration", "giant pandas", "thunderstorms", "ocean sounds",
               "mountain streams", "fireflies", "sharks", "orchards in bloom", "arctic foxes", "tide pools",
               "autumn forests"],
    "news": ["election results", "interest rate decision", "heatwave", "wildfire", "storm warning",
             "transit strike", "AI regulation", "new smartphone", "vehicle recall", "city budget", "bike lanes",
             "housing prices", "trade deal", "flooding", "space launch", "school reform", "energy prices",
             "health policy", "court ruling", "tech layoffs", "climate summit", "earthquake", "unemployment",
             "public transport", "protests"],
    "pets": ["kittens", "puppies", "cats", "dogs", "parrots", "ball pythons", "corgis", "samoyeds", "hamsters",
             "rabbits", "goldfish", "guinea pigs", "rescue dogs", "cat toys", "dog training", "aquariums",
             "terrariums", "pet grooming", "bearded dragons", "ferrets", "tortoises", "cockatiels", "huskies",
             "pet food", "litter boxes"],
    "programming": ["Python", "Java", "JavaScript promises", "Rust", "Go", "Git branches", "regular expressions",
                    "binary search", "web scraping", "SQL queries", "React hooks", "Docker containers", "unit tests",
                    "linked lists", "recursion", "REST APIs", "TypeScript", "C pointers", "hash maps", "Linux shell",
                    "sorting algorithms", "async code", "dynamic programming", "object-oriented design",
                    "Kubernetes"],
    "science": ["black holes", "relativity", "plate tectonics", "the periodic table", "sleep", "the sky's colour",
                "Mars rovers", "DNA", "quantum mechanics", "the immune system", "photosynthesis", "climate change",
                "the Big Bang", "magnetism", "volcano eruptions", "exoplanets", "the human brain", "vaccines",
                "light and optics", "evolution", "dark matter", "chemical reactions", "electricity", "the moon",
                "sound waves"],
    "sports": ["bass fishing", "basketball shooting", "cycling stages", "goalkeeper saves", "rock climbing",
               "freestyle swimming", "chess openings", "football tactics", "tennis serves", "golf swings",
               "marathon running", "boxing footwork", "skateboarding", "surfing", "volleyball", "baseball pitching",
               "ski racing", "table tennis", "rugby tackles", "cricket batting", "snowboarding", "sprinting",
               "derby matches", "world cup goals", "gymnastics"],
    "travel": ["Tokyo", "Lisbon", "the Dolomites", "the Philippines", "Europe on a budget", "solo travel",
               "packing light", "East Java", "Iceland", "Patagonia", "road trips", "Paris", "night trains",
               "Morocco", "New York", "camping", "hostels", "Bali", "the Alps", "Vietnam", "cruise ships",
               "Mexico City", "national parks", "Scotland", "Kyoto"],
}
ADJECTIVES = ["Easy", "Quick", "Ultimate", "Beginner's", "Advanced", "Complete", "Simple", "Surprising", "Honest",
              "Essential", "Relaxing", "Epic", "Underrated", "Classic", "Modern", "Budget", "Weird", "Hidden",
              "Practical", "Incredible", "Minimal", "Extreme", "Cozy", "Funny", "Serious", "Clever", "Realistic",
              "Chaotic", "Slow", "Satisfying", "Forgotten", "Fresh", "Deep", "Tiny", "Massive", "Old-School",
              "Friendly", "Brutal", "Gentle", "Smart"]
FORMATS = ["Tutorial", "Explained", "for Beginners", "Full Course", "Guide", "Tips and Tricks", "Compilation",
           "Review", "Live Stream", "Vlog", "in 10 Minutes", "Step by Step", "Crash Course", "Deep Dive",
           "Highlights", "Challenge", "Masterclass", "Q&A", "Myths Debunked", "Mistakes to Avoid", "Documentary",
           "Walkthrough", "Cheat Sheet", "Case Study", "Reaction", "Behind the Scenes", "Top 10", "Breakdown",
           "for Kids", "Explained Simply", "Made Easy", "Field Notes", "Live Q&A", "Starter Kit", "Workshop",
           "Diary", "Time-Lapse", "in One Hour", "Lesson 1", "Part 2"]
PATTERNS = ["{adj} {topic} {fmt}", "How to Get Started With {topic}", "{topic} vs {topic2}: Which Is Better?",
            "{topic} {fmt} for {audience}", "Why {topic} Matter More Than You Think", "{adj} Guide to {topic}",
            "I Tried {topic} for 30 Days", "Everything About {topic} in {num} Minutes", "{num} {adj} {topic} Ideas",
            "The Truth About {topic}", "{topic}: {adj} {fmt}", "What Nobody Tells You About {topic}"]
AUDIENCES = ["Beginners", "Busy People", "Students", "Parents", "Experts", "Kids", "Seniors", "Small Spaces",
             "Complete Beginners", "Professionals"]
SEARCH_QUERIES = ["funny cat videos", "hilarious kitten videos", "how to bake bread at home", "python tutorial",
                  "learn to code for free", "stock market news today", "what is a black hole", "homemade pizza",
                  "relaxing music for studying", "easy workout at home", "best indie games 2024",
                  "cheap travel tips europe", "how attention works in transformers", "dog training basics",
                  "fix a dripping tap", "bass fishing tips", "jazz piano lessons", "rainforest sounds for sleep",
                  "election results tonight", "how does gps work", "sourdough starter guide", "budget gaming pc",
                  "index funds vs stocks", "morning yoga routine", "tokyo travel guide", "rust removal tools",
                  "softmax temperature explained", "elephant documentary", "learn guitar chords",
                  "what to eat to build muscle", "credit score tips", "chess traps for beginners",
                  "how to paint a room", "mars rover landing", "vector database explained", "parrot talking",
                  "budget travel philippines", "hiking in the alps", "music theory basics", "quick dinner recipes"]
# fmt: on


def synthetic_titles(n: int, seed: int = SEED) -> list[str]:
    """n distinct video titles: the bundled ones first, then templated and mixed ones (deterministic).

    Example:
        >>> len(synthetic_titles(1000)), synthetic_titles(5)[0] == synthetic_titles(5)[0]
        (1000, True)
    """
    import retrieval_attention as ra

    corpus = ra.load_corpus()
    out: dict[str, None] = {v.title: None for v in corpus}
    by_cat: dict[str, list[list[str]]] = {}
    for v in corpus:
        if v.title.isascii():
            by_cat.setdefault(v.category, []).append(v.title.split())
    rng = random.Random(seed)
    cats = sorted(TOPICS)
    guard = 0
    while len(out) < n:
        guard += 1
        if guard > 50 * n:
            raise RuntimeError(f"could only make {len(out)} distinct titles")
        cat = rng.choice(cats)
        if rng.random() < 0.1 and len(by_cat.get(cat, [])) >= 2:  # word-level mix of two real titles
            a, b = rng.sample(by_cat[cat], 2)
            title = " ".join(a[: max(1, len(a) // 2)] + b[len(b) // 2 :])
        else:
            topic, topic2 = rng.sample(TOPICS[cat], 2)
            title = rng.choice(PATTERNS).format(
                adj=rng.choice(ADJECTIVES),
                topic=topic[0].upper() + topic[1:],
                topic2=topic2,
                fmt=rng.choice(FORMATS),
                audience=rng.choice(AUDIENCES),
                num=rng.choice([3, 5, 7, 10, 12, 15, 20, 30]),
            )
        out.setdefault(title, None)
    titles = list(out)
    head, tail = titles[: len(corpus)], titles[len(corpus) :]
    rng.shuffle(tail)
    return (head + tail)[:n]


def query_texts() -> list[str]:
    """Query texts that are never keys: the bundled descriptions and search-box queries."""
    import retrieval_attention as ra

    return [v.description for v in ra.load_corpus() if v.description] + SEARCH_QUERIES


def _bar(desc: str):  # a progress callback for embed_documents
    from tqdm import tqdm

    bar = tqdm(total=None, desc=desc, unit="title", file=sys.stderr, mininterval=1.0, smoothing=0.05)

    def progress(done: int, total: int) -> None:
        if bar.total != total:
            bar.total = total
        bar.update(done - bar.n)
        if done >= total:
            bar.close()

    return progress


def embed(texts: Sequence[str], kind: str, progress: bool = True, use_cache: bool = True) -> NDArray[np.float32]:
    """Texts embedded with the default model in batches of 64, through the project's embedding cache."""
    import retrieval_attention as ra
    from retrieval_attention.encoders.cache import embed_documents

    enc = ra.get_encoder()
    bar = _bar(f"embedding {len(texts):,} {kind}") if progress else None
    return embed_documents(enc, list(texts), kind, CACHE, use_cache, 64, bar)


def real_keys(n: int) -> NDArray[np.float32]:
    """The first n synthetic titles, embedded (n <= 100k; the 100k set is embedded once and cached)."""
    if n > 100_000:
        raise ValueError("real keys stop at 100k; use derived_keys beyond")
    full = embed(synthetic_titles(100_000), "bench-title-100k")
    return np.ascontiguousarray(full[:n])


def real_queries() -> NDArray[np.float32]:
    return embed(query_texts(), "bench-query", progress=False)


def _normalise_(x: NDArray[np.float32]) -> NDArray[np.float32]:
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x


def derived_keys(n: int, seeds: NDArray[np.float32], seed: int = SEED, chunk: int = 100_000) -> NDArray[np.float32]:
    """n unit vectors around the real ``seeds`` (see the module docstring), built in chunks.

    Example:
        >>> S = np.eye(4, dtype=np.float32)
        >>> K = derived_keys(10, S); K.shape, bool(np.allclose(np.linalg.norm(K, axis=1), 1, atol=1e-5))
        ((10, 4), True)
    """
    m, d = seeds.shape
    rng = np.random.default_rng(seed)
    K = np.empty((n, d), dtype=np.float32)  # (n, d)
    for a in range(0, n, chunk):
        b = min(n, a + chunk)
        ia, ib = rng.integers(0, m, b - a), rng.integers(0, m, b - a)
        u = rng.random((b - a, 1), dtype=np.float32)
        x = K[a:b]
        np.subtract(seeds[ib], seeds[ia], out=x)
        x *= np.float32(0.3) * u
        x += seeds[ia]
        x += rng.standard_normal((b - a, d), dtype=np.float32) * np.float32(0.3 / np.sqrt(d))
        _normalise_(x)
    return K


def values_for(K: NDArray[np.float32], seed: int = SEED + 1, chunk: int = 100_000) -> NDArray[np.float32]:
    """V (n, d): each key plus independent noise, normalised (cos(k_i, v_i) ≈ 0.8)."""
    n, d = K.shape
    rng = np.random.default_rng(seed)
    V = np.empty_like(K)
    for a in range(0, n, chunk):
        b = min(n, a + chunk)
        x = V[a:b]
        x[:] = rng.standard_normal((b - a, d), dtype=np.float32)
        x *= np.float32(0.75 / np.sqrt(d))
        x += K[a:b]
        _normalise_(x)
    return V


def gaussian_keys(n: int, d: int = 384, seed: int = SEED, chunk: int = 100_000) -> NDArray[np.float32]:
    """n standard-Gaussian rows normalised to unit length: no structure, the worst case."""
    rng = np.random.default_rng(seed)
    K = np.empty((n, d), dtype=np.float32)
    for a in range(0, n, chunk):
        b = min(n, a + chunk)
        K[a:b] = rng.standard_normal((b - a, d), dtype=np.float32)
        _normalise_(K[a:b])
    return K


KINDS = ("text", "derived", "gaussian")


def key_set(kind: str, n: int) -> tuple[NDArray[np.float32], NDArray[np.float32], str]:
    """(K (n, d), Q (m, d), description) for one kind of keys.

    "text": real embeddings up to 100k, derived from the 100k real ones above; "derived": derived
    from only the first 10k real ones (to compare with real keys at 100k); "gaussian": the worst case.
    """
    if kind == "gaussian":
        return gaussian_keys(n), gaussian_keys(352, seed=SEED + 7), "Gaussian-random unit vectors"
    if kind == "derived":
        return derived_keys(n, real_keys(10_000)), real_queries(), "derived from 10k real embeddings"
    if kind != "text":
        raise ValueError(f"kind must be one of {KINDS}")
    if n <= 100_000:
        return real_keys(n), real_queries(), "real embeddings of synthetic titles"
    return derived_keys(n, real_keys(100_000)), real_queries(), "derived from the 100k real embeddings"
