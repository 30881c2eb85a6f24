/*
 * test_plot.c - the data side of dsim plot (cli/plot_data.c): the one
 * quoting function for gnuplot's -e values, the cleaning of text bound for
 * data files, and the checking CSV reader.
 *
 * plot_gp_var is tested twice: on its output text, and by giving that text
 * to a real gnuplot (when one is on the PATH), which must print the value
 * back byte for byte and run nothing: each hostile value tries to create a
 * file named PWNED in the test's folder.
 */
#include "check_util.h"
#include "plot_int.h"

#include "sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *const hostile[] = {
    "plain",
    "it's",
    "''",
    "'",
    "'''x",
    "",
    "a\\b\\'c\\",
    "x'; system('touch PWNED'); y='",
    "x\"; system(\"touch PWNED\"); y=\"",
    "`touch PWNED`",
    "@macro; system('touch PWNED')",
    "semi;colon",
    "system(\"touch PWNED\")",
    "'.system('touch PWNED').'",
    "caf\xc3\xa9 \xe2\x9c\x93",
};

START_TEST(test_gp_var_quotes_everything) {
    const struct {
        const char *value, *out;
    } exact[] = {
        {"plain", "x='plain'; "},
        {"", "x=''; "},
        {"it's", "x='it'.\"'\".'s'; "},
        {"''", "x=\"'\".\"'\"; "},
        {"'a", "x=\"'\".'a'; "},
        {"a\\b\"`c`@d", "x='a\\b\"`c`@d'; "},
        {"x'; system('id'); y='", "x='x'.\"'\".'; system('.\"'\".'id'.\"'\".'); y='.\"'\"; "},
    };
    for (size_t i = 0; i < sizeof exact / sizeof *exact; i++) {
        cli_buf b = {0};
        EXPECT(plot_gp_var(&b, "x", exact[i].value) == 0);
        ck_assert_str_eq(b.s, exact[i].out);
        sim_free(b.s);
    }
    /* Newlines and other control characters are refused: nothing added. */
    const char *ctl[] = {"a\nb", "a\rb", "\x1b[31m", "tab\there", "del\x7f"};
    for (size_t i = 0; i < sizeof ctl / sizeof *ctl; i++) {
        cli_buf v = {0};
        EXPECT(plot_gp_var(&v, "v", ctl[i]) == -1);
        EXPECT(v.s == NULL);
    }
}
END_TEST

/* Runs gnuplot -e "<vars> print v" in a fresh folder; returns its output. */
static char *gnuplot_print(const char *dir, const char *vars) {
    char out[600];
    snprintf(out, sizeof out, "%s/out.txt", dir);
    pid_t pid = fork();
    if (pid == 0) {
        if (chdir(dir) != 0)
            _exit(126);
        FILE *f = freopen("out.txt", "w", stderr);
        (void)f;
        char cmd[4096];
        snprintf(cmd, sizeof cmd, "%s print v", vars);
        execlp("gnuplot", "gnuplot", "-e", cmd, (char *)NULL);
        _exit(127);
    }
    int st;
    waitpid(pid, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) == 127)
        return NULL;
    FILE *f = fopen(out, "r");
    if (!f)
        return NULL;
    char *buf = sim_calloc(1, 4096);
    size_t n = fread(buf, 1, 4095, f);
    fclose(f);
    if (n && buf[n - 1] == '\n')
        buf[n - 1] = '\0';
    return buf;
}

START_TEST(test_gp_var_survives_gnuplot) {
    if (system("command -v gnuplot >/dev/null 2>&1") != 0) {
        fprintf(stderr, "test_gp_var_survives_gnuplot: skipped (no gnuplot on the PATH)\n");
        return;
    }
    char dir[] = "/tmp/dsim_test_plot_XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    for (size_t i = 0; i < sizeof hostile / sizeof *hostile; i++) {
        cli_buf v = {0};
        EXPECT(plot_gp_var(&v, "v", hostile[i]) == 0);
        char *got = gnuplot_print(dir, v.s);
        ck_assert_ptr_nonnull(got);
        ck_assert_str_eq(got, hostile[i]);
        char pwned[600];
        snprintf(pwned, sizeof pwned, "%s/PWNED", dir);
        struct stat st;
        EXPECT_MSG(stat(pwned, &st) != 0, "gnuplot ran a command from %s", hostile[i]);
        sim_free(got);
        sim_free(v.s);
    }
    char p[600];
    snprintf(p, sizeof p, "%s/out.txt", dir);
    unlink(p);
    rmdir(dir);
}
END_TEST

START_TEST(test_label_is_one_clean_field) {
    char out[64];
    plot_label(out, sizeof out, "n0\" at 0,0; system(\"id\")\n\\x");
    ck_assert_str_eq(out, "n0_ at 0_0; system(_id_) _x");
    plot_text(out, sizeof out, "a, b \"c\"\t");
    ck_assert_str_eq(out, "a, b _c_ ");
    /* Valid UTF-8 stays; invalid bytes, overlong forms and surrogates go. */
    plot_label(out, sizeof out, "caf\xc3\xa9");
    ck_assert_str_eq(out, "caf\xc3\xa9");
    plot_label(out, sizeof out,
               "a\xff"
               "b\xc0\xaf"
               "c\xed\xa0\x80"
               "d\xe2\x82");
    ck_assert_str_eq(out, "a?b??c???d??");
    plot_label(out, sizeof out, "\x1b[31mRED\x7f");
    ck_assert_str_eq(out, " [31mRED ");
    /* Cut at a character boundary. */
    char small[5];
    plot_label(small, sizeof small, "ab\xc3\xa9\xc3\xa9");
    ck_assert_str_eq(small, "ab\xc3\xa9");
    plot_label(small, sizeof small, "abc\xc3\xa9");
    ck_assert_str_eq(small, "abc");
}
END_TEST

static void write_file(const char *dir, const char *name, const char *text) {
    char p[600];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

START_TEST(test_csv_reader_checks_shape) {
    char dir[] = "/tmp/dsim_test_csv_XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    csv c;
    char err[256];
    write_file(dir, "ok.csv", "a,\"b,\"\"c\"\"\",c\r\n1,2,3\n4,\"x\ny\",\n");
    ck_assert_int_eq(csv_load(dir, "ok.csv", &c, err, sizeof err), 0);
    ck_assert_uint_eq(c.rows, 2);
    ck_assert_uint_eq(c.cols, 3);
    ck_assert_str_eq(c.cell[1], "b,\"c\"");
    ck_assert_str_eq(csv_at(&c, 1, 1), "x\ny");
    ck_assert_str_eq(csv_at(&c, 1, 2), "");
    ck_assert_str_eq(csv_at(&c, 5, 0), ""); /* past the end: empty, not a crash */
    EXPECT(csv_num(&c, 0, 2) == 3);
    EXPECT(csv_check_numbers(&c, "ok.csv", 0, err, sizeof err) == -1);
    ck_assert_str_eq(err, "ok.csv:3: column 2: \"x y\" is not a number");
    csv_free(&c);
    ck_assert_int_eq(csv_load(dir, "missing.csv", &c, err, sizeof err), 1);
    const struct {
        const char *text, *err;
    } bad[] = {
        {"a,b\n1\n", "bad.csv:2: 1 fields, but the header has 2"},
        {"a,b\n1,2,3\n", "bad.csv:2: 3 fields, but the header has 2"},
        {"a,\"b\n", "bad.csv:1: a quoted field is not closed"},
        {"a,,b\n", "bad.csv:1: column 2 has no name"},
        {"x,y,x\n", "bad.csv:1: the column name \"x\" appears twice"},
        {"", "bad.csv: empty (a header line was expected)"},
        {"a\rb\n", "bad.csv:1: a stray carriage return"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        write_file(dir, "bad.csv", bad[i].text);
        ck_assert_int_eq(csv_load(dir, "bad.csv", &c, err, sizeof err), -1);
        ck_assert_str_eq(err, bad[i].err);
        EXPECT(c.cell == NULL);
    }
    /* Numbers: finite decimals and "inf"; never nan or hex. */
    write_file(dir, "n.csv", "a\n1e3\n-0.5\ninf\n.5\n");
    ck_assert_int_eq(csv_load(dir, "n.csv", &c, err, sizeof err), 0);
    EXPECT(csv_check_numbers(&c, "n.csv", 0, err, sizeof err) == 0);
    csv_free(&c);
    const char *nan_like[] = {"a\nnan\n", "a\n0x10\n", "a\n1,\n", "a\n1e\n", "a\n-\n"};
    for (size_t i = 0; i < sizeof nan_like / sizeof *nan_like; i++) {
        write_file(dir, "n.csv", nan_like[i]);
        int rc = csv_load(dir, "n.csv", &c, err, sizeof err);
        if (rc == 0)
            EXPECT_MSG(csv_check_numbers(&c, "n.csv", 0, err, sizeof err) == -1, "%s", nan_like[i]);
        csv_free(&c);
    }
    char p[600];
    const char *names[] = {"ok.csv", "bad.csv", "n.csv"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        unlink(p);
    }
    rmdir(dir);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("plot");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_gp_var_quotes_everything);
    tcase_add_test(tc, test_gp_var_survives_gnuplot);
    tcase_add_test(tc, test_label_is_one_clean_field);
    tcase_add_test(tc, test_csv_reader_checks_shape);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return check_run(suite()); }
