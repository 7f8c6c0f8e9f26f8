/* Progress lines (see progress.h). */
#include "train/progress.h"
#include "util/timer.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>

void isb_progress_start(isb_progress *p, const char *label, int max_epochs, int n, int64_t samples_seen) {
    *p = (isb_progress){.label = label, .max_epochs = max_epochs, .n = n, .session_samples0 = samples_seen};
    p->session_start = p->last_line = isb_now();
}

static void format_duration(char *buf, size_t size, double s) {
    if (!(s >= 0) || s > 1e8) { snprintf(buf, size, "?"); return; }
    long t = lround(s);
    if (t >= 3600) snprintf(buf, size, "%ldh%02ldm", t / 3600, t / 60 % 60);
    else snprintf(buf, size, "%ldm%02lds", t / 60, t % 60);
}

static double eta_seconds(const isb_progress *p, int64_t samples_seen) {
    double elapsed = isb_now() - p->session_start;
    int64_t done = samples_seen - p->session_samples0;
    return done > 0 ? elapsed / done * ((double)p->max_epochs * p->n - samples_seen) : -1;
}

void isb_progress_between_evaluations(isb_progress *p, const isb_train_state *s, double wall_s) {
    double now = isb_now();
    if (now - p->last_line < 30) return;
    p->last_line = now;
    char el[32], et[32];
    format_duration(el, sizeof el, wall_s);
    format_duration(et, sizeof et, eta_seconds(p, s->samples_seen));
    int64_t into = s->samples_seen - (int64_t)s->n_rows * p->n;
    fprintf(stderr, "[%s] data epoch %d/%d  %3.0f%%  samples %" PRId64 "  step %" PRId64 "  elapsed %s  ETA <= %s\n",
            p->label, s->n_rows + 1, p->max_epochs, 100.0 * (double)into / p->n, s->samples_seen, s->step, el, et);
}

void isb_progress_evaluation(isb_progress *p, const isb_train_state *s, double wall_s, bool stop) {
    const isb_metrics_row *row = &s->rows[s->n_rows - 1];
    char el[32], et[32];
    format_duration(el, sizeof el, wall_s);
    format_duration(et, sizeof et, stop ? 0 : eta_seconds(p, s->samples_seen));
    p->last_line = isb_now();
    fprintf(stderr, "[%s] data epoch %d/%d  samples %" PRId64 "  train loss %.4f acc %.4f  test loss %.4f acc %.4f  "
                    "lr %.3g  elapsed %s  ETA <= %s\n",
            p->label, row->data_epoch, p->max_epochs, s->samples_seen, row->train_loss, row->train_acc,
            row->test_loss, row->test_acc, (double)row->lr, el, et);
}

void isb_progress_evaluating(isb_progress *p, const isb_train_state *s, int n_test) {
    fprintf(stderr, "[%s] data epoch %d/%d: evaluating on %d test images\n", p->label, s->n_rows + 1, p->max_epochs,
            n_test);
}
