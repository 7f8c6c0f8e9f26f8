/* The training state table and its checkpoint form (see train_state.h).
 *
 * Every field is one i64 scalar tensor "train/state/<name>": integers as themselves, floating-point
 * values as the bits of a double (exact, so a resumed run reproduces the uninterrupted one bit for
 * bit). Metrics rows are "train/metrics" i64 [rows][columns] in the same encoding, histograms
 * "train/hist" i64 [rows][ISB_HIST_BINS], the identity "train/identity" (its JSON text, one byte
 * per i64). Ranges are computed from the run's identity (N, |Z|, batch, max epochs). */
#include "train/train_state.h"
#include "results/score_hist.h"
#include "util/error.h"

#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STATE_VERSION 2 /* 1: the enum-indexed counters of isbench 0.1 (refused) */
#define PREFIX "train/state/"

typedef enum { F_I32, F_U32, F_I64, F_F32, F_F64 } field_type;
typedef enum {
    R_BOOL,           /* 0..1 */
    R_ZCAP,           /* 0..max(|Z|, N): positions in Z (warm-up epochs draw N) */
    R_SINCE,          /* 0..N+batch-1: samples since the last evaluation */
    R_SAMPLES,        /* 0..max_epochs * N + batch */
    R_EPOCHS,         /* 0..max_epochs */
    R_ACC,            /* 0..1 */
    R_BEST_ACC,       /* -1 (none yet) or 0..1 */
    R_NONNEG,         /* finite, >= 0: losses */
    R_LR,             /* the --lr range of the key table, lowered by the schedule's decays */
    R_SECONDS,        /* finite, >= 0 */
    R_SECONDS_OR_UNSET /* -1 (not measured) or finite >= 0 */
} range_kind;

typedef struct {
    const char *name;
    size_t offset;
    field_type type;
    range_kind range;
    bool optional; /* added later: a checkpoint without it keeps the initial value */
} state_field;

#define STATE(name, member, type, range) {name, offsetof(isb_train_state, member), type, range, false}
#define STATE_ADDED(name, member, type, range) {name, offsetof(isb_train_state, member), type, range, true}
static const state_field state_fields[] = {
    STATE("sampler_epoch", sampler_epoch, F_U32, R_SAMPLES),
    STATE("pos", pos, F_I32, R_ZCAP), /* when zlen == 0: where the finished epoch ended */
    STATE("zlen", zlen, F_I32, R_ZCAP),
    STATE("z_weighted", z_weighted, F_I32, R_BOOL),
    STATE("samples_seen", samples_seen, F_I64, R_SAMPLES),
    STATE("step", step, F_I64, R_SAMPLES),
    STATE("since_eval", since_eval, F_I32, R_SINCE),
    STATE("early_stop.bad_evals", es.bad_evals, F_I32, R_EPOCHS),
    STATE("early_stop.evals", es.evals, F_I32, R_EPOCHS),
    STATE("early_stop.best_acc", es.best_acc, F_F64, R_BEST_ACC),
    STATE("lr", lr, F_F32, R_LR),
    STATE("wall_s", wall_before, F_F64, R_SECONDS),
    STATE("time.training", t.training, F_F64, R_SECONDS),
    STATE("time.evaluation", t.evaluation, F_F64, R_SECONDS),
    STATE("time.sampling", t.sampling, F_F64, R_SECONDS),
    STATE("time.data", t.data, F_F64, R_SECONDS_OR_UNSET),
    STATE("data_epochs", n_rows, F_I32, R_EPOCHS),
    STATE_ADDED("time.init", t.init, F_F64, R_SECONDS),
};
#define N_STATE_FIELDS (int)(sizeof state_fields / sizeof state_fields[0])

#define COLUMN(name, member, type, range) {name, offsetof(isb_metrics_row, member), type, range, false}
static const state_field metric_columns[] = {
    COLUMN("data_epoch", data_epoch, F_I32, R_EPOCHS),  COLUMN("samples_seen", samples_seen, F_I64, R_SAMPLES),
    COLUMN("wall_s", wall_s, F_F64, R_SECONDS),         COLUMN("lr", lr, F_F64, R_LR),
    COLUMN("train_loss", train_loss, F_F64, R_NONNEG),  COLUMN("train_acc", train_acc, F_F64, R_ACC),
    COLUMN("test_loss", test_loss, F_F64, R_NONNEG),    COLUMN("test_acc", test_acc, F_F64, R_ACC),
};
#define N_METRIC_COLUMNS (int)(sizeof metric_columns / sizeof metric_columns[0])

/* ---- one field: to and from its i64 checkpoint form, and its range ---------------------------- */

static int64_t double_bits(double v) { int64_t b; memcpy(&b, &v, sizeof b); return b; }
static double bits_double(int64_t b) { double v; memcpy(&v, &b, sizeof v); return v; }
static bool is_float(field_type t) { return t == F_F32 || t == F_F64; }

static int64_t field_encode(const void *base, const state_field *f) {
    const char *p = (const char *)base + f->offset;
    switch (f->type) {
    case F_I32: { int32_t v; memcpy(&v, p, sizeof v); return v; }
    case F_U32: { uint32_t v; memcpy(&v, p, sizeof v); return v; }
    case F_I64: { int64_t v; memcpy(&v, p, sizeof v); return v; }
    case F_F32: { float v; memcpy(&v, p, sizeof v); return double_bits(v); }
    case F_F64: default: { double v; memcpy(&v, p, sizeof v); return double_bits(v); }
    }
}

/* The value a stored i64 stands for, as a double for the range check. */
static double field_value(const state_field *f, int64_t bits) {
    return is_float(f->type) ? bits_double(bits) : (double)bits;
}

/* Stores a value already range-checked (so it fits the member's type). */
static void field_decode(void *base, const state_field *f, int64_t bits) {
    char *p = (char *)base + f->offset;
    switch (f->type) {
    case F_I32: { int32_t v = (int32_t)bits; memcpy(p, &v, sizeof v); break; }
    case F_U32: { uint32_t v = (uint32_t)bits; memcpy(p, &v, sizeof v); break; }
    case F_I64: memcpy(p, &bits, sizeof bits); break;
    case F_F32: { float v = (float)bits_double(bits); memcpy(p, &v, sizeof v); break; }
    case F_F64: { double v = bits_double(bits); memcpy(p, &v, sizeof v); break; }
    }
}

/* The range [*lo, *hi] of a field for this run (R_BEST_ACC and R_SECONDS_OR_UNSET also allow -1).
 * Learning rates: the command line's range for --lr (from the one key table), its lower end
 * multiplied by lr-decay at each milestone. */
static void range_of(const state_field *f, const isb_run_identity *id, double *lo, double *hi) {
    *lo = 0, *hi = DBL_MAX;
    switch (f->range) {
    case R_BOOL: case R_ACC: case R_BEST_ACC: *hi = 1; break;
    case R_ZCAP: *hi = id->z > id->n ? id->z : id->n; break;
    case R_SINCE: *hi = id->n + id->cfg.batch - 1; break; /* the step that completes a data epoch may pass N */
    case R_SAMPLES: *hi = (double)id->cfg.max_epochs * id->n + id->cfg.batch; break;
    case R_EPOCHS: *hi = id->cfg.max_epochs; break;
    case R_NONNEG: case R_SECONDS: case R_SECONDS_OR_UNSET: break;
    case R_LR:
        if (isb_train_config_key_range("lr", lo, hi) < 0) *lo = 1, *hi = 0; /* nothing fits */
        for (int i = 0; i < id->cfg.n_milestones; i++) *lo *= id->cfg.lr_decay;
        *lo *= 1 - 1e-6; /* the float the loop holds may round just below */
        break;
    }
}

static bool in_range(const state_field *f, double v, const isb_run_identity *id) {
    double lo, hi;
    range_of(f, id, &lo, &hi);
    if (v == -1 && (f->range == R_BEST_ACC || f->range == R_SECONDS_OR_UNSET)) return true;
    if (f->range == R_BOOL && v != 0 && v != 1) return false;
    return v >= lo && v <= hi; /* NaN fails */
}

static int out_of_range(const char *path, const char *what, const state_field *f, int64_t bits,
                        const isb_run_identity *id) {
    double lo, hi;
    range_of(f, id, &lo, &hi);
    return isb_fail(ISB_ERR_FORMAT, "%s is corrupt: %s%s = %.17g is outside [%g, %g], its range for this run%s: "
                    "nothing was changed; move the checkpoint away (or rerun with --restart) to start the run over",
                    path, what, f->name, field_value(f, bits), lo, hi,
                    f->range == R_LR ? " (--lr's range, lowered by --lr-decay at each milestone)" : "");
}

/* ---- identity ------------------------------------------------------------------------------------ */

int isb_run_identity_make(isb_run_identity *id, const isb_train_config *cfg, int n, int n_test, int z) {
    *id = (isb_run_identity){.cfg = *cfg, .n = n, .n_test = n_test, .z = z};
    id->json = json_pack("{s:i, s:i, s:i, s:i, s:o}", "state_version", STATE_VERSION, "train_n", n, "test_n", n_test,
                         "z", z, "configuration", isb_train_config_to_json(cfg));
    return id->json ? ISB_OK : isb_fail(ISB_ERR_MEMORY, "out of host memory for the run identity");
}

void isb_run_identity_free(isb_run_identity *id) {
    json_decref(id->json);
    id->json = NULL;
}

static int check_identity(const isb_checkpoint *ck, const isb_run_identity *id, const char *path) {
    const isb_tensor *t = isb_checkpoint_find(ck, "train/identity");
    if (!t || t->dtype != ISB_DTYPE_I64 || t->ndim != 1 || t->dims[0] > 1 << 20)
        return isb_fail(ISB_ERR_FORMAT, "%s holds no training-run identity (written by an older isbench, or not a "
                        "training checkpoint): nothing was changed; move it away (or rerun with --restart) to start "
                        "the run over", path);
    size_t len = (size_t)t->dims[0];
    char *text = malloc(len + 1);
    if (!text) return isb_fail(ISB_ERR_MEMORY, "out of host memory reading %s", path);
    for (size_t i = 0; i < len; i++) text[i] = (char)((const int64_t *)t->data)[i];
    text[len] = '\0';
    json_t *theirs = json_loads(text, 0, NULL);
    free(text);
    int rc = ISB_OK;
    if (!theirs || !json_equal(theirs, id->json)) {
        char diff[1024] = "its identity is unreadable";
        if (theirs) isb_json_differences(theirs, id->json, diff, sizeof diff);
        rc = isb_fail(ISB_ERR_USAGE, "%s belongs to another run (%s): nothing was changed; put back this run's "
                      "checkpoint, or move it away (or rerun with --restart) to start the run over", path, diff);
    }
    json_decref(theirs);
    return rc;
}

static int add_identity(isb_checkpoint *ck, const isb_run_identity *id) {
    char *text = json_dumps(id->json, JSON_COMPACT | JSON_SORT_KEYS);
    if (!text) return isb_fail(ISB_ERR_MEMORY, "out of host memory for the run identity");
    int64_t len = (int64_t)strlen(text);
    int64_t *bytes = malloc((size_t)(len > 0 ? len : 1) * sizeof *bytes);
    int rc = ISB_OK;
    if (!bytes) ISB_CHECK(isb_fail(ISB_ERR_MEMORY, "out of host memory for the run identity"));
    for (int64_t i = 0; i < len; i++) bytes[i] = (unsigned char)text[i];
    ISB_CHECK(isb_checkpoint_add(ck, "train/identity", ISB_DTYPE_I64, 1, &len, bytes));
done:
    free(bytes);
    free(text);
    return rc;
}

/* ---- state ------------------------------------------------------------------------------------------ */

void isb_train_state_init(isb_train_state *s, const isb_train_config *cfg) {
    memset(s, 0, sizeof *s);
    isb_early_stop_init(&s->es);
    s->lr = cfg->lr;
    s->t.score_update = -1; /* fused into the loss kernel: not measurable apart */
    s->t.data = cfg->profile ? 0 : -1;
}

void isb_train_state_free(isb_train_state *s) {
    free(s->rows);
    free(s->hist);
    free(s->hist_epochs);
    s->rows = NULL, s->hist = NULL, s->hist_epochs = NULL, s->n_rows = s->cap_rows = 0;
}

int isb_train_state_grow_rows(isb_train_state *s, int need) {
    if (need <= s->cap_rows) return ISB_OK;
    int cap = need > 2 * s->cap_rows ? need : 2 * s->cap_rows;
    isb_metrics_row *rows = realloc(s->rows, (size_t)cap * sizeof *rows);
    if (rows) s->rows = rows;
    int64_t *hist = realloc(s->hist, (size_t)cap * ISB_HIST_BINS * sizeof *hist);
    if (hist) s->hist = hist;
    int *he = realloc(s->hist_epochs, (size_t)cap * sizeof *he);
    if (he) s->hist_epochs = he;
    if (!rows || !hist || !he) return isb_fail(ISB_ERR_MEMORY, "out of host memory for %d metric rows", cap);
    s->cap_rows = cap;
    return ISB_OK;
}

isb_accuracy_summary isb_train_state_accuracy(const isb_train_state *s, bool cumulative) {
    isb_accuracy_summary a = {.best = -1, .last = s->n_rows ? s->rows[s->n_rows - 1].test_acc : NAN};
    for (int i = 0; i < s->n_rows; i++)
        if (s->rows[i].test_acc > a.best) a.best = s->rows[i].test_acc;
    a.reported = cumulative ? a.last : a.best;
    return a;
}

int isb_train_state_save(const isb_train_state *s, double wall_s, const isb_run_identity *id, isb_checkpoint *ck) {
    isb_train_state at = *s;
    at.wall_before = wall_s;
    ISB_TRY(add_identity(ck, id));
    for (int i = 0; i < N_STATE_FIELDS; i++) {
        char name[96];
        snprintf(name, sizeof name, PREFIX "%s", state_fields[i].name);
        int64_t v = field_encode(&at, &state_fields[i]);
        ISB_TRY(isb_checkpoint_add(ck, name, ISB_DTYPE_I64, 0, NULL, &v));
    }
    int64_t dm[2] = {s->n_rows, N_METRIC_COLUMNS}, dh[2] = {s->n_rows, ISB_HIST_BINS};
    ISB_TRY(isb_checkpoint_add(ck, "train/hist", ISB_DTYPE_I64, 2, dh, s->hist));
    ISB_TRY(isb_checkpoint_add(ck, "train/metrics", ISB_DTYPE_I64, 2, dm, NULL));
    int64_t *cells = ck->tensors[ck->count - 1].data;
    for (int r = 0; r < s->n_rows; r++)
        for (int c = 0; c < N_METRIC_COLUMNS; c++) cells[r * N_METRIC_COLUMNS + c] = field_encode(&s->rows[r], &metric_columns[c]);
    return ISB_OK;
}

/* The counters must also agree with each other: an evaluation happens when samples_seen reaches
 * (data_epochs + 1) * N, a checkpoint is never written after the last one, and so on. */
static int check_relations(const isb_train_state *s, const isb_run_identity *id, const char *path) {
    int64_t n = id->n, seen = s->samples_seen;
    const char *bad = NULL;
    if (s->n_rows >= id->cfg.max_epochs) bad = "data_epochs reaches max_epochs (a finished run has no checkpoint)";
    /* up to one step past the data epoch: a stop before or during its evaluation leaves it pending */
    else if (seen < s->n_rows * n || seen >= (s->n_rows + 1) * n + id->cfg.batch)
        bad = "samples_seen does not match data_epochs";
    else if (s->since_eval > seen - s->n_rows * n || (s->n_rows == 0 && s->since_eval != seen))
        bad = "since_eval does not match samples_seen";
    else if (s->step > seen || s->step * id->cfg.batch < seen) bad = "step does not match samples_seen and the batch";
    else if (s->zlen != 0 && ((s->zlen != id->z && s->zlen != id->n) || s->pos >= s->zlen))
        bad = "pos / zlen do not describe a sampler epoch of this run (the loop draws a new one when pos reaches zlen)";
    else if (s->es.evals != s->n_rows || s->es.bad_evals > s->es.evals || s->es.bad_evals >= id->cfg.patience)
        bad = "the early-stopping counters do not match data_epochs and --patience";
    else if (s->lr != isb_lr_at(&id->cfg, s->n_rows))
        bad = "lr is not the schedule's learning rate after data_epochs (--lr, --lr-decay, --milestones)";
    if (bad) return isb_fail(ISB_ERR_FORMAT, "%s is corrupt: %s: nothing was changed; move the checkpoint away (or "
                             "rerun with --restart) to start the run over", path, bad);
    return ISB_OK;
}

static const isb_tensor *table(const isb_checkpoint *ck, const char *name, int64_t rows, int64_t cols) {
    const isb_tensor *t = isb_checkpoint_find(ck, name);
    if (!t || t->dtype != ISB_DTYPE_I64 || t->ndim != 2 || t->dims[0] != rows || t->dims[1] != cols) return NULL;
    return t;
}

static int load_rows(isb_train_state *s, const isb_run_identity *id, const isb_checkpoint *ck, const char *path) {
    const isb_tensor *tm = table(ck, "train/metrics", s->n_rows, N_METRIC_COLUMNS);
    const isb_tensor *th = table(ck, "train/hist", s->n_rows, ISB_HIST_BINS);
    if (!tm || !th)
        return isb_fail(ISB_ERR_FORMAT, "%s is corrupt: train/metrics or train/hist is missing or not %d rows long: "
                        "nothing was changed; move the checkpoint away (or rerun with --restart)", path, s->n_rows);
    ISB_TRY(isb_train_state_grow_rows(s, s->n_rows));
    const int64_t *cells = tm->data, *hist = th->data;
    for (int r = 0; r < s->n_rows; r++) {
        char what[48];
        snprintf(what, sizeof what, "metrics row %d: ", r + 1);
        for (int c = 0; c < N_METRIC_COLUMNS; c++) {
            const state_field *f = &metric_columns[c];
            int64_t v = cells[r * N_METRIC_COLUMNS + c];
            if (!in_range(f, field_value(f, v), id)) return out_of_range(path, what, f, v, id);
            field_decode(&s->rows[r], f, v);
        }
        int64_t total = 0;
        for (int b = 0; b < ISB_HIST_BINS; b++) {
            int64_t count = hist[(size_t)r * ISB_HIST_BINS + b];
            if (count < 0 || count > id->n || (total += count) > id->n)
                return isb_fail(ISB_ERR_FORMAT, "%s is corrupt: the score histogram of data epoch %d does not count "
                                "0..%d scores: nothing was changed; move the checkpoint away (or rerun with --restart)",
                                path, r + 1, id->n);
        }
        if (s->rows[r].lr != (double)isb_lr_at(&id->cfg, r))
            return isb_fail(ISB_ERR_FORMAT, "%s is corrupt: metrics row %d's lr %g is not the schedule's %g: nothing was "
                            "changed; move the checkpoint away (or rerun with --restart)", path, r + 1, s->rows[r].lr,
                            (double)isb_lr_at(&id->cfg, r));
        if (s->rows[r].data_epoch != r + 1)
            return isb_fail(ISB_ERR_FORMAT, "%s is corrupt: metrics row %d says data epoch %d: nothing was changed; "
                            "move the checkpoint away (or rerun with --restart)", path, r + 1, s->rows[r].data_epoch);
        s->hist_epochs[r] = r + 1;
    }
    if (s->n_rows) memcpy(s->hist, hist, (size_t)s->n_rows * ISB_HIST_BINS * sizeof *hist);
    return ISB_OK;
}

int isb_train_state_load(isb_train_state *s, const isb_run_identity *id, const isb_checkpoint *ck, const char *path) {
    ISB_TRY(check_identity(ck, id, path));
    isb_train_state got = *s;
    got.rows = NULL, got.hist = NULL, got.hist_epochs = NULL, got.cap_rows = 0;
    for (int i = 0; i < N_STATE_FIELDS; i++) {
        const state_field *f = &state_fields[i];
        char name[96];
        snprintf(name, sizeof name, PREFIX "%s", f->name);
        const isb_tensor *t = isb_checkpoint_find(ck, name);
        if (!t && f->optional) continue;
        if (!t || t->dtype != ISB_DTYPE_I64 || isb_tensor_numel(t) != 1)
            return isb_fail(ISB_ERR_FORMAT, "%s lacks %s (written by another isbench version?): nothing was "
                            "changed; move it away (or rerun with --restart) to start the run over", path, name);
        int64_t v = *(const int64_t *)t->data;
        if (!in_range(f, field_value(f, v), id)) return out_of_range(path, PREFIX, f, v, id);
        field_decode(&got, f, v);
    }
    ISB_TRY(check_relations(&got, id, path));
    int rc = load_rows(&got, id, ck, path);
    if (rc < 0) {
        isb_train_state_free(&got);
        return rc;
    }
    isb_train_state_free(s);
    *s = got;
    return ISB_OK;
}
