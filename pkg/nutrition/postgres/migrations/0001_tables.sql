-- 0001: the tables of the nutrition store.
--
-- Runs inside the migration transaction with search_path set to the store's
-- schema alone, so every name below lands in that schema.

-- USDA SR24 foods. Nutrients are per 100 g; NULL where the source does not
-- report them (fiber and sodium for a few hundred foods).
CREATE TABLE foods (
    ndb               text PRIMARY KEY CHECK (ndb ~ '^[0-9]{5}$'),
    description       text NOT NULL,
    -- sr24.Normalize(description), computed in Go so that every lookup
    -- normalises the same way.
    description_norm  text NOT NULL,
    -- The words of description_norm, for word matching without pg_trgm.
    description_words text[] GENERATED ALWAYS AS (string_to_array(description_norm, ' ')) STORED,
    energy_kcal       double precision CHECK (energy_kcal >= 0),
    protein_g         double precision CHECK (protein_g >= 0),
    carbohydrate_g    double precision CHECK (carbohydrate_g >= 0),
    fat_g             double precision CHECK (fat_g >= 0),
    fiber_g           double precision CHECK (fiber_g >= 0),
    sodium_mg         double precision CHECK (sodium_mg >= 0)
);
CREATE INDEX foods_description_norm_idx ON foods (description_norm, ndb);
CREATE INDEX foods_description_words_idx ON foods USING gin (description_words);

-- Household measures of the foods, in the order of the source.
CREATE TABLE portions (
    ndb         text NOT NULL REFERENCES foods (ndb) ON DELETE CASCADE,
    seq         integer NOT NULL,
    description text NOT NULL,
    grams       double precision NOT NULL CHECK (grams > 0),
    PRIMARY KEY (ndb, seq)
);

-- Curated everyday names ("chicken breast", "porridge") for foods.
CREATE TABLE aliases (
    name       text PRIMARY KEY,
    name_norm  text NOT NULL,
    name_words text[] GENERATED ALWAYS AS (string_to_array(name_norm, ' ')) STORED,
    ndb        text NOT NULL REFERENCES foods (ndb) ON DELETE CASCADE,
    -- Line order of the curated list; when two aliases normalise alike the
    -- first wins, as in sr24.Lookup.
    position   integer NOT NULL UNIQUE
);
CREATE INDEX aliases_name_norm_idx ON aliases (name_norm, position);
CREATE INDEX aliases_name_words_idx ON aliases USING gin (name_words);
CREATE INDEX aliases_ndb_idx ON aliases (ndb);

-- Answers of upstreams (USDA FoodData Central, web search), written through
-- on success so the bot can still answer the same question when the upstream
-- is down. One row per normalised query and source.
CREATE TABLE upstream_answers (
    query_norm     text NOT NULL CHECK (query_norm <> ''),
    source         text NOT NULL CHECK (source ~ '^[a-z0-9_-]{1,32}$'),
    query          text NOT NULL,
    upstream_id    text,
    description    text NOT NULL,
    energy_kcal    double precision CHECK (energy_kcal >= 0),
    protein_g      double precision CHECK (protein_g >= 0),
    carbohydrate_g double precision CHECK (carbohydrate_g >= 0),
    fat_g          double precision CHECK (fat_g >= 0),
    fiber_g        double precision CHECK (fiber_g >= 0),
    sodium_mg      double precision CHECK (sodium_mg >= 0),
    fetched_at     timestamptz NOT NULL,
    PRIMARY KEY (query_norm, source)
);
-- Lookups use the primary key; the refresher lists the oldest answers of
-- one source.
CREATE INDEX upstream_answers_source_fetched_idx ON upstream_answers (source, fetched_at);

-- What Seed loaded last: one row.
CREATE TABLE seed_state (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    version   text NOT NULL,
    foods     integer NOT NULL,
    portions  integer NOT NULL,
    aliases   integer NOT NULL,
    seeded_at timestamptz NOT NULL
);

-- Settings recorded by Migrate, e.g. which similarity search is in use.
CREATE TABLE settings (
    key   text PRIMARY KEY,
    value text NOT NULL
);
