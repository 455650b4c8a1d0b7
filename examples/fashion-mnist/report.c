/*
 * report.c - progress lines, CSV rows and a hand-written SVG plot.
 *
 * Copyright (c) 2026 the libvicreg authors. MIT licence (see LICENSE).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "report.h"

const char *fm_format_duration(double s, char *buf)
{
    if (!(s >= 0.0) || s > 1e7) {
        snprintf(buf, 32, "?");
    } else if (s < 60.0) {
        snprintf(buf, 32, "%.0fs", s);
    } else {
        long t = (long)(s + 0.5);
        if (t >= 3600)
            snprintf(buf, 32, "%ldh%02ldm", t / 3600, (t / 60) % 60);
        else
            snprintf(buf, 32, "%ldm%02lds", t / 60, t % 60);
    }
    return buf;
}

void fm_csv_header(FILE *f)
{
    fprintf(f, "epoch,step,lr,loss,invariance,variance_a,variance_b,covariance_a,covariance_b,"
               "mean_std,min_std,collapsed_fraction,effective_rank,variance_local,"
               "covariance_local,effective_rank_local,knn_curve_acc,steps_per_s,elapsed_s\n");
}

/* One CSV field and its comma; NAN (not measured) as an empty field. */
static void field(FILE *f, const char *fmt, double v)
{
    if (!isnan(v))
        fprintf(f, fmt, v);
    fputc(',', f);
}

void fm_csv_row(FILE *f, const struct fm_log_row *r)
{
    fprintf(f, "%d,%ld,%.6g,", r->epoch, r->step, r->lr);
    const double g9[] = {r->loss, r->invariance, r->variance_a, r->variance_b,
                         r->covariance_a, r->covariance_b};
    for (size_t i = 0; i < sizeof g9 / sizeof g9[0]; i++)
        field(f, "%.9g", g9[i]);
    field(f, "%.6f", r->mean_std);
    field(f, "%.6f", r->min_std);
    field(f, "%.6f", r->collapsed);
    field(f, "%.4f", r->eff_rank);
    field(f, "%.9g", r->variance_local);
    field(f, "%.9g", r->covariance_local);
    field(f, "%.4f", r->eff_rank_local);
    field(f, "%.4f", r->knn);
    fprintf(f, "%.2f,%.1f\n", r->steps_per_s, r->elapsed);
    fflush(f);
}

void fm_print_row(const struct fm_log_row *r, int epochs, double eta_s)
{
    char eta[32], el[32];
    printf("epoch %*d/%d  ", epochs >= 100 ? 3 : epochs >= 10 ? 2 : 1, r->epoch, epochs);
    if (isnan(r->invariance)) {
        /* A supervised run. */
        printf("cross-entropy %7.4f  train acc %6.2f%%", r->loss, 100.0 * r->train_acc);
    } else if (isnan(r->variance_local)) {
        printf("loss %8.4f  inv %.4f  var %.4f/%.4f  cov %.4f/%.4f  "
               "std %.3f min %.3f  <gamma %4.1f%%  erank %5.1f",
               r->loss, r->invariance, r->variance_a, r->variance_b, r->covariance_a,
               r->covariance_b, r->mean_std, r->min_std, 100.0 * r->collapsed, r->eff_rank);
    } else {
        /* Multi-crop: the two global views, then the mean of the local ones. */
        printf("loss %8.4f  inv %.4f  var %.4f/%.4f loc %.4f  cov %.4f/%.4f loc %.4f  "
               "std %.3f min %.3f  <gamma %4.1f%%  erank %5.1f loc %5.1f",
               r->loss, r->invariance, r->variance_a, r->variance_b, r->variance_local,
               r->covariance_a, r->covariance_b, r->covariance_local, r->mean_std, r->min_std,
               100.0 * r->collapsed, r->eff_rank, r->eff_rank_local);
    }
    if (!isnan(r->knn))
        printf("  kNN %5.2f%%", 100.0 * r->knn);
    if (r->epoch > 0)
        printf("  %5.2f steps/s  %s", r->steps_per_s, fm_format_duration(r->elapsed, el));
    if (eta_s >= 0.0)
        printf("  left %s", fm_format_duration(eta_s, eta));
    printf("\n");
    fflush(stdout);
}

/* ------------------------------------------------------------------------
 * SVG
 * ------------------------------------------------------------------------ */
struct panel {
    double x, y, w, h;          /* plot area in pixels */
    double x0, x1, y0, y1;      /* data range (log10 values when logy) */
    int logy;
};

static double px(const struct panel *p, double x)
{
    return p->x + (x - p->x0) / (p->x1 - p->x0) * p->w;
}

static double py(const struct panel *p, double y)
{
    double v = p->logy ? log10(y) : y;
    return p->y + p->h - (v - p->y0) / (p->y1 - p->y0) * p->h;
}

static void nice_linear(double lo, double hi, double *step)
{
    double span = hi - lo, raw = span / 5.0, mag = pow(10.0, floor(log10(raw)));
    double f = raw / mag;
    *step = (f < 1.5 ? 1.0 : f < 3.5 ? 2.0 : f < 7.5 ? 5.0 : 10.0) * mag;
}

static void axes(FILE *f, const struct panel *p, const char *title, const char *ylabel,
                 const char *yfmt_unit)
{
    fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#fff\" "
               "stroke=\"#444\"/>\n", p->x, p->y, p->w, p->h);
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"14\" font-weight=\"bold\">%s</text>\n",
            p->x, p->y - 8, title);
    fprintf(f, "<text transform=\"translate(%.1f,%.1f) rotate(-90)\" text-anchor=\"middle\" "
               "font-size=\"12\">%s</text>\n", p->x - 52, p->y + p->h / 2, ylabel);
    /* x ticks: epochs */
    double xs;
    nice_linear(p->x0, p->x1 > p->x0 + 1 ? p->x1 : p->x0 + 5, &xs);
    if (xs < 1.0)
        xs = 1.0;
    for (double t = ceil(p->x0 / xs) * xs; t <= p->x1 + 1e-9; t += xs) {
        double X = px(p, t);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", X,
                p->y, X, p->y + p->h);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"11\">%g</text>\n",
                X, p->y + p->h + 14, t);
    }
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"12\">epoch</text>\n",
            p->x + p->w / 2, p->y + p->h + 30);
    /* y ticks */
    if (p->logy) {
        for (int e = (int)floor(p->y0); e <= (int)ceil(p->y1); e++)
            for (int m = 1; m <= 9; m++) {
                double v = m * pow(10.0, e), lv = log10(v);
                if (lv < p->y0 - 1e-9 || lv > p->y1 + 1e-9)
                    continue;
                double Y = py(p, v);
                fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"/>\n",
                        p->x, Y, p->x + p->w, Y, m == 1 ? "#ccc" : "#f0f0f0");
                if (m == 1 || m == 2 || m == 5)
                    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" font-size=\"11\">%g</text>\n",
                            p->x - 4, Y + 4, v);
            }
    } else {
        double ys;
        nice_linear(p->y0, p->y1, &ys);
        for (double t = ceil(p->y0 / ys) * ys; t <= p->y1 + 1e-9; t += ys) {
            double Y = py(p, t);
            fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n",
                    p->x, Y, p->x + p->w, Y);
            fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" font-size=\"11\">%g%s</text>\n",
                    p->x - 4, Y + 4, fabs(t) < 1e-12 ? 0.0 : t, yfmt_unit);
        }
    }
}

typedef double (*getter)(const struct fm_log_row *r, const struct fm_loss_weights *w);

static double g_loss(const struct fm_log_row *r, const struct fm_loss_weights *w)
{
    (void)w;
    return r->loss;
}
static double g_inv(const struct fm_log_row *r, const struct fm_loss_weights *w)
{
    return w->lambda * r->invariance;
}
static double g_var(const struct fm_log_row *r, const struct fm_loss_weights *w)
{
    return w->mu_w * r->var_sum;
}
static double g_cov(const struct fm_log_row *r, const struct fm_loss_weights *w)
{
    return w->nu * r->cov_sum;
}
static double g_knn(const struct fm_log_row *r, const struct fm_loss_weights *w)
{
    (void)w;
    return 100.0 * r->knn;
}
static double g_mean_std(const struct fm_log_row *r, const struct fm_loss_weights *w)
{
    (void)w;
    return r->mean_std;
}
static double g_min_std(const struct fm_log_row *r, const struct fm_loss_weights *w)
{
    (void)w;
    return r->min_std;
}

static void series(FILE *f, const struct panel *p, const struct fm_log_row *rows, size_t n,
                   const struct fm_loss_weights *w, getter g, const char *color, int markers)
{
    fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"", color);
    for (size_t i = 0; i < n; i++) {
        double v = g(&rows[i], w);
        if (!isfinite(v) || (p->logy && v <= 0.0))
            continue;
        fprintf(f, "%.1f,%.1f ", px(p, rows[i].epoch), py(p, v));
    }
    fprintf(f, "\"/>\n");
    if (markers)
        for (size_t i = 0; i < n; i++) {
            double v = g(&rows[i], w);
            if (isfinite(v) && !(p->logy && v <= 0.0))
                fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>\n",
                        px(p, rows[i].epoch), py(p, v), color);
        }
}

static void legend(FILE *f, const struct panel *p, int slot, const char *color, int dashed,
                   const char *label)
{
    double x = p->x + p->w - 230, y = p->y + 16 + 16 * slot;
    fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"226\" height=\"16\" fill=\"#fff\" "
               "fill-opacity=\"0.85\"/>\n", x - 4, y - 12);
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
               "stroke-width=\"2\"%s/>\n", x, y - 4, x + 22, y - 4, color,
            dashed ? " stroke-dasharray=\"6,4\"" : "");
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\">%s</text>\n", x + 28, y, label);
}

static void range_of(const struct fm_log_row *rows, size_t n, const struct fm_loss_weights *w,
                     getter g, int logy, double *lo, double *hi)
{
    for (size_t i = 0; i < n; i++) {
        double v = g(&rows[i], w);
        if (!isfinite(v) || (logy && v <= 0.0))
            continue;
        if (logy)
            v = log10(v);
        if (v < *lo)
            *lo = v;
        if (v > *hi)
            *hi = v;
    }
}

/* Whether any row has a finite value of g (a supervised run has no VICReg
 * terms, and their legends are left out). */
static int any_finite(const struct fm_log_row *rows, size_t n, const struct fm_loss_weights *w,
                      getter g)
{
    for (size_t i = 0; i < n; i++)
        if (isfinite(g(&rows[i], w)))
            return 1;
    return 0;
}

/* A dashed horizontal line across panel p at y with a legend. */
static void level(FILE *f, const struct panel *p, double y, int slot, const char *color,
                  const char *label)
{
    double Y = py(p, y);
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
               "stroke-width=\"2\" stroke-dasharray=\"6,4\"/>\n", p->x, Y, p->x + p->w, Y,
            color);
    legend(f, p, slot, color, 1, label);
}

int fm_svg_write(const char *path, const struct fm_log_row *rows, size_t n,
                 const struct fm_loss_weights *w, double init_knn, double raw_knn,
                 const char *title, const char *subtitle, const char *note)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    const double W = 820, H = 1060;
    int last_epoch = n ? rows[n - 1].epoch : 1;
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
               "viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\">\n"
               "<rect width=\"100%%\" height=\"100%%\" fill=\"#fafafa\"/>\n"
               "<text x=\"20\" y=\"26\" font-size=\"16\" font-weight=\"bold\">%s</text>\n"
               "<text x=\"20\" y=\"46\" font-size=\"12\">%s</text>\n",
            W, H, W, H, title, subtitle);

    /* Panel 1: the weighted loss terms, log scale. */
    struct panel p1 = {80, 90, 700, 250, 0, last_epoch > 0 ? last_epoch : 1, 1e300, -1e300, 1};
    getter terms[4] = {g_loss, g_inv, g_var, g_cov};
    for (int t = 0; t < 4; t++)
        range_of(rows, n, w, terms[t], 1, &p1.y0, &p1.y1);
    if (p1.y0 > p1.y1)
        p1.y0 = -1, p1.y1 = 1;
    p1.y0 = floor(p1.y0 * 4.0) / 4.0 - 0.05;
    p1.y1 = ceil(p1.y1 * 4.0) / 4.0 + 0.05;
    axes(f, &p1, "VICReg loss and its weighted terms (epoch means, log scale)", "loss", "");
    const char *colors[4] = {"#000", "#1f77b4", "#2ca02c", "#d62728"};
    const char *names[4] = {"loss", "lambda * invariance", "mu * w * (variance, all views)",
                            "nu * (covariance, all views)"};
    for (int t = 0, slot = 0; t < 4; t++) {
        if (!any_finite(rows, n, w, terms[t]))
            continue;
        series(f, &p1, rows, n, w, terms[t], colors[t], 0);
        legend(f, &p1, slot++, colors[t], 0, names[t]);
    }

    /* Panel 2: kNN accuracy on the curve subset. */
    struct panel p2 = {80, 410, 700, 250, 0, p1.x1, 1e300, -1e300, 0};
    range_of(rows, n, w, g_knn, 0, &p2.y0, &p2.y1);
    const double levels[2] = {init_knn, raw_knn};
    for (int i = 0; i < 2; i++)
        if (isfinite(levels[i])) {
            p2.y0 = fmin(p2.y0, 100.0 * levels[i]);
            p2.y1 = fmax(p2.y1, 100.0 * levels[i]);
        }
    if (p2.y0 > p2.y1)
        p2.y0 = 0, p2.y1 = 100;
    p2.y0 = fmax(0.0, floor(p2.y0 - 2.0));
    p2.y1 = fmin(100.0, ceil(p2.y1 + 2.0));
    axes(f, &p2, "kNN accuracy (k = 20, cosine) on the curve subset", "accuracy", "%");
    series(f, &p2, rows, n, w, g_knn, "#9467bd", 1);
    legend(f, &p2, 0, "#9467bd", 0, "trained encoder");
    int slot = 1;
    if (isfinite(init_knn))
        level(f, &p2, 100.0 * init_knn, slot++, "#2ca02c", "same encoder, random init");
    if (isfinite(raw_knn))
        level(f, &p2, 100.0 * raw_knn, slot++, "#ff7f0e", "raw pixels");

    if (note)
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\">%s</text>\n", p2.x,
                p2.y + p2.h + 48, note);

    /* Panel 3: collapse diagnostics. */
    struct panel p3 = {80, 750, 700, 250, 0, p1.x1, 0.0, -1e300, 0};
    range_of(rows, n, w, g_mean_std, 0, &p3.y0, &p3.y1);
    range_of(rows, n, w, g_min_std, 0, &p3.y0, &p3.y1);
    p3.y0 = 0.0;
    p3.y1 = fmax(1.2, p3.y1 * 1.1);
    axes(f, &p3, "std of the projector outputs (gamma = 1 is the hinge target)", "std", "");
    double Yg = py(&p3, 1.0);
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#888\" "
               "stroke-dasharray=\"4,4\"/>\n", p3.x, Yg, p3.x + p3.w, Yg);
    series(f, &p3, rows, n, w, g_mean_std, "#1f77b4", 0);
    series(f, &p3, rows, n, w, g_min_std, "#d62728", 0);
    legend(f, &p3, 0, "#1f77b4", 0, "mean std over columns");
    legend(f, &p3, 1, "#d62728", 0, "smallest column std");
    fprintf(f, "</svg>\n");
    return fclose(f) == 0 ? 0 : -1;
}
