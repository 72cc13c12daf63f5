/* SPDX-License-Identifier: Apache-2.0 */
/* The command-line front end: the only code that sees argv or calls exit(). Each command
 * lives in cmd_<name>.c and returns its exit status. */
#ifndef KADASTR_CLI_INT_H
#define KADASTR_CLI_INT_H

#include "kadastr/core.h"

/* Exit statuses (docs/cli.md). */
enum {
    KD_EXIT_OK = 0,
    KD_EXIT_ERROR = 1,
    KD_EXIT_USAGE = 2,
    KD_EXIT_REJECTS = 3,
    KD_EXIT_NOTFOUND = 4,
    KD_EXIT_INTERRUPTED = 130
};

struct kd_cli_command {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv); /* argv[0] is the command name */
    void (*help)(void);
};

int kd_cli_init(int argc, char **argv);
void kd_cli_init_help(void);
int kd_cli_load(int argc, char **argv);
void kd_cli_load_help(void);
int kd_cli_sample(int argc, char **argv);
void kd_cli_sample_help(void);
int kd_cli_lookup(int argc, char **argv);
void kd_cli_lookup_help(void);
int kd_cli_export(int argc, char **argv);
void kd_cli_export_help(void);
int kd_cli_serve(int argc, char **argv);
void kd_cli_serve_help(void);
int kd_cli_migrate(int argc, char **argv);
void kd_cli_migrate_help(void);
int kd_cli_info(int argc, char **argv);
void kd_cli_info_help(void);

/* Prints "kadastr <cmd>: <where>: <msg>" and the hint to stderr; returns the exit status
 * that fits err->code (1, or 4 for not found, 130 for interrupted). */
int kd_cli_fail(const char *cmd, const struct kd_err *err);
/* Prints a usage error and "try 'kadastr <cmd> --help'"; returns KD_EXIT_USAGE. */
int kd_cli_usage(const char *cmd, const char *fmt, ...) KD_PRINTF(2, 3);
/* Is argv asking for help (any "-h"/"--help")? */
int kd_cli_wants_help(int argc, char **argv);

#endif
