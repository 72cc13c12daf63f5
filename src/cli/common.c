/* SPDX-License-Identifier: Apache-2.0 */
/* What every command prints on failure, in one shape: "kadastr <cmd>: <where>: <msg>",
 * then "  hint: <hint>". */
#include "cli_int.h"

#include <stdio.h>
#include <string.h>

int kd_cli_fail(const char *cmd, const struct kd_err *err)
{
    if (err->where[0])
        fprintf(stderr, "kadastr %s: %s: %s\n", cmd, err->where, err->msg);
    else
        fprintf(stderr, "kadastr %s: %s\n", cmd, err->msg);
    if (err->hint[0])
        fprintf(stderr, "  hint: %s\n", err->hint);
    switch (err->code) {
    case KD_ENOTFOUND:
        return KD_EXIT_NOTFOUND;
    case KD_EINTERRUPTED:
        return KD_EXIT_INTERRUPTED;
    default:
        return KD_EXIT_ERROR;
    }
}

int kd_cli_usage(const char *cmd, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "kadastr %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n  hint: see 'kadastr %s --help'\n", cmd);
    return KD_EXIT_USAGE;
}

int kd_cli_wants_help(int argc, char **argv)
{
    int i;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            return 0;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return 1;
    }
    return 0;
}
