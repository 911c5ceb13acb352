package gallery

// applicationID marks a SQLite file as a Diptych library ("DPTY"), so another
// application's database is refused instead of being altered.
const applicationID = 0x44505459

// migrations are applied in order at Open; the schema version is their count
// (PRAGMA user_version). Never edit a released entry: append a new one.
var migrations = []string{
	// 1: initial schema.
	`
CREATE TABLE prompts (
	id         INTEGER PRIMARY KEY,
	text       TEXT NOT NULL,
	negative   TEXT NOT NULL DEFAULT '',
	first_used INTEGER NOT NULL,
	last_used  INTEGER NOT NULL,
	use_count  INTEGER NOT NULL DEFAULT 0,
	UNIQUE (text, negative)
);
CREATE INDEX prompts_last_used ON prompts (last_used DESC);

CREATE TABLE groups (
	id         INTEGER PRIMARY KEY,
	kind       TEXT NOT NULL CHECK (kind IN ('compare', 'sweep', 'batch', 'hybrid')),
	title      TEXT NOT NULL DEFAULT '',
	created_at INTEGER NOT NULL,
	params     TEXT NOT NULL DEFAULT '{}'
);

CREATE TABLE generations (
	id          INTEGER PRIMARY KEY,
	created_at  INTEGER NOT NULL,          -- unix milliseconds
	prompt_id   INTEGER NOT NULL REFERENCES prompts (id),
	engine      TEXT NOT NULL DEFAULT '',
	model       TEXT NOT NULL DEFAULT '',
	model_hash  TEXT NOT NULL DEFAULT '',
	seed        INTEGER NOT NULL DEFAULT 0, -- uint64 stored as its int64 bits
	steps       INTEGER NOT NULL DEFAULT 0,
	scheduler   TEXT NOT NULL DEFAULT '',
	width       INTEGER NOT NULL DEFAULT 0,
	height      INTEGER NOT NULL DEFAULT 0,
	guidance    REAL NOT NULL DEFAULT 0,
	device      TEXT NOT NULL DEFAULT '',
	provider    TEXT NOT NULL DEFAULT '',
	precision   TEXT NOT NULL DEFAULT '',
	rng         TEXT NOT NULL DEFAULT '',
	timings     TEXT NOT NULL DEFAULT '[]', -- JSON [{"stage":..,"ns":..}]
	peak_memory INTEGER NOT NULL DEFAULT 0,
	status      TEXT NOT NULL DEFAULT 'ok',
	error       TEXT NOT NULL DEFAULT '',
	group_id    INTEGER REFERENCES groups (id) ON DELETE SET NULL,
	group_index INTEGER NOT NULL DEFAULT 0,
	source      TEXT NOT NULL DEFAULT 'diptych',
	params      TEXT NOT NULL DEFAULT '{}', -- the whole Generation as JSON
	favourite   INTEGER NOT NULL DEFAULT 0,
	deleted_at  INTEGER                     -- set while in the trash
);
CREATE INDEX gen_live_time   ON generations (created_at DESC, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX gen_trash_time  ON generations (deleted_at, created_at DESC, id DESC) WHERE deleted_at IS NOT NULL;
CREATE INDEX gen_model       ON generations (model, created_at DESC, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX gen_scheduler   ON generations (scheduler, created_at DESC, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX gen_size        ON generations (width, height, created_at DESC, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX gen_favourite   ON generations (created_at DESC, id DESC) WHERE deleted_at IS NULL AND favourite = 1;
CREATE INDEX gen_seed        ON generations (seed);
CREATE INDEX gen_prompt      ON generations (prompt_id, created_at DESC);
CREATE INDEX gen_group       ON generations (group_id) WHERE group_id IS NOT NULL;

CREATE TABLE images (
	id            INTEGER PRIMARY KEY,
	generation_id INTEGER NOT NULL UNIQUE REFERENCES generations (id) ON DELETE CASCADE,
	path          TEXT NOT NULL UNIQUE,    -- relative to the library root, '/' separated
	thumb_path    TEXT NOT NULL DEFAULT '',
	sha256        TEXT NOT NULL,
	width         INTEGER NOT NULL,
	height        INTEGER NOT NULL,
	bytes         INTEGER NOT NULL
);
CREATE INDEX images_sha ON images (sha256);

CREATE TABLE boards (
	id         INTEGER PRIMARY KEY,
	name       TEXT NOT NULL UNIQUE COLLATE NOCASE,
	created_at INTEGER NOT NULL
);
CREATE TABLE board_items (
	board_id      INTEGER NOT NULL REFERENCES boards (id) ON DELETE CASCADE,
	generation_id INTEGER NOT NULL REFERENCES generations (id) ON DELETE CASCADE,
	added_at      INTEGER NOT NULL,
	PRIMARY KEY (board_id, generation_id)
) WITHOUT ROWID;
CREATE INDEX board_items_gen ON board_items (generation_id);

CREATE TABLE captions (
	id            INTEGER PRIMARY KEY,
	generation_id INTEGER NOT NULL REFERENCES generations (id) ON DELETE CASCADE,
	kind          TEXT NOT NULL DEFAULT 'describe',
	question      TEXT NOT NULL DEFAULT '',
	answer        TEXT NOT NULL,
	model         TEXT NOT NULL DEFAULT '',
	created_at    INTEGER NOT NULL
);
CREATE INDEX captions_gen ON captions (generation_id);

-- One row per generation (rowid = generations.id), kept in step by the Go code.
CREATE VIRTUAL TABLE search USING fts5 (prompt, negative, caption, tags, tokenize = 'unicode61 remove_diacritics 2');
`,
}

// SchemaVersion is the schema version this build writes and understands; it
// equals len(migrations).
const SchemaVersion = 1
