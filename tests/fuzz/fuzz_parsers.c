/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target for the parsers of outside input in core and geo: cadastral numbers (both
 * formats), shares, dates, PINFL/STIR, the JSON string writer, the WKB walker and the
 * SpatiaLite blob encoder, Accept-Language negotiation. Built with -fsanitize=fuzzer (cmake
 * -DKD_FUZZ=ON, clang) it is a libFuzzer target; otherwise main() replays the corpus given on the
 * command line, which ctest does under the sanitizers. The first input byte picks the parser. */
#include "../../src/store/store_int.h"
#include "kadastr/geo.h"
#include "kadastr/i18n.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    char *s, out[KD_CADNUM_MAX], t[32];
    struct kd_err err;
    struct kd_frac f;
    struct kd_buf b;
    double box[4];
    unsigned type;

    if (size < 1)
        return 0;
    s = malloc(size);
    if (!s)
        return 0;
    memcpy(s, data + 1, size - 1);
    s[size - 1] = '\0'; /* the parsers take C strings: the input up to its first NUL */
    kd_err_init(&err);
    switch (data[0] % 7) {
    case 0:
        if (kd_cadnum_normalize(KD_NUMFMT_UZ, s, out, &err) == KD_OK &&
            (strlen(out) < 19 || strlen(out) > 32))
            abort(); /* a land plot has 19 characters, a part of a building 32 */
        break;
    case 1:
        if (kd_cadnum_normalize(KD_NUMFMT_ANY, s, out, &err) == KD_OK && !out[0])
            abort();
        break;
    case 2:
        if (kd_frac_parse(s, &f, &err) == KD_OK && (f.num <= 0 || f.den <= 0 || f.num > f.den))
            abort();
        kd_err_init(&err);
        if (kd_time_parse(s, t, &err) == KD_OK && strlen(t) != 20)
            abort();
        (void)kd_pinfl_check(s);
        (void)kd_stir_check(s);
        break;
    case 3:
        kd_buf_init(&b);
        kd_buf_add_json_str(&b, s);
        kd_buf_fini(&b);
        break;
    case 4:
        /* a structure the walker accepts has a finite box or none */
        if (kd_wkb_type(data + 1, size - 1, &type, &err) == KD_OK && type % 1000 > 7)
            abort();
        kd_err_init(&err);
        if (kd_wkb_box(data + 1, size - 1, box, &err) == KD_OK && box[0] > box[2] &&
            box[0] != INFINITY)
            abort();
        break;
    case 6:
        if ((unsigned)kd_lang_negotiate(s) >= KD_N_LANGS)
            abort();
        break;
    default:
        kd_buf_init(&b);
        (void)kd_store_blob_from_wkb(data + 1, size - 1, 32642, &b, box);
        kd_buf_fini(&b);
        break;
    }
    free(s);
    return 0;
}

#ifndef KD_LIBFUZZER
int main(int argc, char **argv)
{
    int i, n = 0;

    for (i = 1; i < argc; i++) {
        FILE *fp = fopen(argv[i], "rb");
        unsigned char buf[65536];
        size_t len;
        if (!fp) {
            fprintf(stderr, "fuzz_parsers: cannot read %s\n", argv[i]);
            return 1;
        }
        len = fread(buf, 1, sizeof buf, fp);
        fclose(fp);
        LLVMFuzzerTestOneInput(buf, len);
        n++;
    }
    printf("fuzz_parsers: replayed %d inputs\n", n);
    return n > 0 ? 0 : 1;
}
#endif
