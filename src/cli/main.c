/* SPDX-License-Identifier: Apache-2.0 */
/* kadastr: git-style subcommands over libkadastr. Dispatch, --help and --version live here;
 * each command parses its own options in cmd_<name>.c. */
#include "cli_int.h"

#include "kadastr/store.h"

#include <stdio.h>
#include <string.h>

static const struct kd_cli_command commands[] = {
    {"init", "create a new register database", kd_cli_init, kd_cli_init_help},
    {"load", "load survey data, zoning, restrictions, parties or rights", kd_cli_load,
     kd_cli_load_help},
    {"sample", "generate a realistic sample region near Tashkent", kd_cli_sample,
     kd_cli_sample_help},
    {"info", "summarize a register database", kd_cli_info, kd_cli_info_help},
    {"lookup", "find parcels by number, point, box; neighbours; history", kd_cli_lookup,
     kd_cli_lookup_help},
    {"export", "write the register (or its state on a date) as open data", kd_cli_export,
     kd_cli_export_help},
    {"serve", "serve the register over HTTP (cadastre API)", kd_cli_serve, kd_cli_serve_help},
    {"migrate", "bring a database to this version's schema", kd_cli_migrate, kd_cli_migrate_help},
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *f)
{
    size_t i;

    fprintf(f, "usage: kadastr [--version] [--help] <command> [<args>]\n\n"
               "kadastr keeps a region's cadastre (parcels, zoning, restrictions, parties and\n"
               "rights) in one SpatiaLite database.\n\ncommands:\n");
    for (i = 0; i < N_COMMANDS; i++)
        fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n'kadastr <command> --help' describes a command; docs/cli.md has them all.\n"
               "exit status: 0 ok, 1 error, 2 usage error, 3 loaded with rejects, 4 not found\n");
}

int main(int argc, char **argv)
{
    size_t i;

    kd_store_process_init();
    if (argc < 2) {
        usage(stderr);
        return KD_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        if (argc > 2)
            for (i = 0; i < N_COMMANDS; i++)
                if (strcmp(argv[2], commands[i].name) == 0) {
                    commands[i].help();
                    return KD_EXIT_OK;
                }
        usage(stdout);
        return KD_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("kadastr %s\n", KD_VERSION);
        return KD_EXIT_OK;
    }
    for (i = 0; i < N_COMMANDS; i++) {
        if (strcmp(argv[1], commands[i].name) == 0) {
            if (kd_cli_wants_help(argc - 1, argv + 1)) {
                commands[i].help();
                return KD_EXIT_OK;
            }
            return commands[i].run(argc - 1, argv + 1);
        }
    }
    fprintf(stderr, "kadastr: '%s' is not a command\n", argv[1]);
    usage(stderr);
    return KD_EXIT_USAGE;
}
