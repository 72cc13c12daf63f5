/* SPDX-License-Identifier: Apache-2.0 */
/* sample's words and numbers: Uzbek (Latin script) names of people, organisations, places
 * and streets, register dates without gmtime, and well-formed PINFL and STIR numbers that
 * are unique by construction (a bijection of the party's index, not a lookup table). */
#include "sample_int.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

int32_t kd_sample_text_days(int y, int m, int d)
{
    int era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void kd_sample_text_civil(int32_t days, int *y, int *m, int *d)
{
    int32_t z = days + 719468;
    int32_t era = (z >= 0 ? z : z - 146096) / 146097;
    int32_t doe = z - era * 146097;
    int32_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int32_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int32_t mp = (5 * doy + 2) / 153;

    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

void kd_sample_text_date(struct kd_sample_txt *t, int32_t days)
{
    int y, m, d;

    kd_sample_text_civil(days, &y, &m, &d);
    kd_sample_txt_u(t, (uint64_t)y, 4);
    kd_sample_txt_c(t, '-');
    kd_sample_txt_u(t, (uint64_t)m, 2);
    kd_sample_txt_c(t, '-');
    kd_sample_txt_u(t, (uint64_t)d, 2);
}

void kd_sample_text_time(struct kd_sample_txt *t, int32_t days, int32_t secs)
{
    kd_sample_text_date(t, days);
    kd_sample_txt_c(t, 'T');
    kd_sample_txt_u(t, (uint64_t)(secs / 3600), 2);
    kd_sample_txt_c(t, ':');
    kd_sample_txt_u(t, (uint64_t)(secs / 60 % 60), 2);
    kd_sample_txt_c(t, ':');
    kd_sample_txt_u(t, (uint64_t)(secs % 60), 2);
    kd_sample_txt_c(t, 'Z');
}

/* Tashkent's 12 districts in alphabetical order; BB 01..12 take them in turn. */
static const char *const districts[] = {
    "Bektemir",     "Chilonzor", "Mirobod",    "Mirzo Ulug'bek", "Olmazor",   "Sergeli",
    "Shayxontohur", "Uchtepa",   "Yakkasaroy", "Yangihayot",     "Yashnobod", "Yunusobod"};

static const char *const extra_districts[] = {
    "Zangiota",      "Qibray",       "Toshkent",   "Yangiyo'l", "Chinoz",    "Yuqorichirchiq",
    "O'rtachirchiq", "Quyichirchiq", "Bo'stonliq", "Parkent",   "Ohangaron", "Piskent",
    "Bekobod",       "Bo'ka",        "Oqqo'rg'on", "Keles"};

static const char *const massivs[] = {
    "Chilonzor",      "Qoraqamish", "Yunusobod", "Sebzor",       "Beshyog'och",
    "Qo'yliq",        "Olmazor",    "Sag'bon",   "Ko'kcha",      "Qatortol",
    "Ipakyo'li",      "Oqtepa",     "Bodomzor",  "Minor",        "Darxon",
    "Xadra",          "Labzak",     "Chorsu",    "Navza",        "Bo'ston",
    "Tinchlik",       "Feruza",     "Qorasuv",   "Yalang'och",   "Ko'ksaroy",
    "Beltepa",        "Zarqaynar",  "Shodlik",   "Kamolon",      "Nurafshon",
    "Do'mbirobod",    "Sputnik",    "Mevazor",   "Bo'zsuv",      "Salor",
    "Chig'atoy",      "Jarariq",    "Lutfiy",    "Ahmad Donish", "Buyuk Ipak Yo'li",
    "Farg'ona yo'li", "Kuyluk",     "Rohat",     "Sirg'ali",     "Qumariq",
    "Uch qahramon",   "Oqqo'rg'on", "Ulug'bek"};

static const char *const mahallas[] = {"Navbahor",
                                       "Bog'ishamol",
                                       "Chinor",
                                       "Guliston",
                                       "Do'stlik",
                                       "Tinchlik",
                                       "Ittifoq",
                                       "Obod",
                                       "Nurafshon",
                                       "Yangi hayot",
                                       "Bunyodkor",
                                       "Mehnatobod",
                                       "Oqtepa",
                                       "Qatortol",
                                       "Ko'kcha",
                                       "Beltepa",
                                       "Sag'bon",
                                       "Ulug'bek",
                                       "Ko'ksaroy",
                                       "Chorsu",
                                       "Sebzor",
                                       "Zarqaynar",
                                       "Xadra",
                                       "Labzak",
                                       "Bodomzor",
                                       "Qorasuv",
                                       "Istiqlol",
                                       "Mustaqillik",
                                       "Ma'rifat",
                                       "Sharq",
                                       "Shodlik",
                                       "Umid",
                                       "Farovon",
                                       "Gulbahor",
                                       "Lolazor",
                                       "Bog'bon",
                                       "Zafar",
                                       "Kamolon",
                                       "Baxt",
                                       "Ziyokor",
                                       "Nurobod",
                                       "Yangiobod",
                                       "Dilobod",
                                       "Olmazor",
                                       "Shifokorlar",
                                       "Mirishkor",
                                       "Qiyot",
                                       "Turkiston",
                                       "Samarqand darvoza",
                                       "Beshyog'och",
                                       "Ko'hna shahar",
                                       "Mevazor",
                                       "Oltintepa",
                                       "Yakkatut",
                                       "Chig'atoy",
                                       "Tepaqo'rg'on",
                                       "Jar ko'cha",
                                       "Hamza",
                                       "Alisher Navoiy",
                                       "Bobur",
                                       "Muqimiy",
                                       "Furqat",
                                       "Ogahiy",
                                       "Shifobaxsh"};

static const char *const streets[] = {"Navoiy",          "Bunyodkor",       "Amir Temur",
                                      "Mustaqillik",     "Shota Rustaveli", "Bobur",
                                      "Furqat",          "Qatortol",        "Muqimiy",
                                      "Lutfiy",          "Beruniy",         "Farobiy",
                                      "Cho'ponota",      "Gulsanam",        "Bog'ishamol",
                                      "Chilonzor",       "Qoratosh",        "Taras Shevchenko",
                                      "Mirobod",         "Oybek",           "Abdulla Qodiriy",
                                      "Zarqaynar",       "Sag'bon",         "Ko'kcha darvoza",
                                      "Olmazor",         "Beshyog'och",     "Kichik halqa yo'li",
                                      "Labzak",          "Sebzor",          "Ipak yo'li",
                                      "Yunusobod",       "Ahmad Donish",    "Bodomzor",
                                      "Minor",           "Nukus",           "Afrosiyob",
                                      "Mirzo Ulug'bek",  "Fidokor",         "Sayilgoh",
                                      "Istiqbol",        "Xurshid",         "Qushbegi",
                                      "Gavhar",          "Shifokorlar",     "Bog'bon",
                                      "Lolazor",         "Mehrgiyo",        "Nurafshon",
                                      "Bahor",           "Oqqo'rg'on",      "Chig'atoy",
                                      "Uchtepa",         "Katta Darxon",    "Kichik Beshyog'och",
                                      "Sharof Rashidov", "Usmon Nosir",     "Mukimiy",
                                      "Yakkasaroy",      "Chimboy",         "Qorasaroy"};

static const char *const heritage[] = {"Ko'kaldosh madrasasi",      "Baroqxon madrasasi",
                                       "Xo'ja Ahror Valiy masjidi", "Shayx Xovendi Tohur maqbarasi",
                                       "Yunusxon maqbarasi",        "Qaffol Shoshiy maqbarasi",
                                       "Abulqosim madrasasi",       "Juma masjidi",
                                       "Zangiota maqbarasi",        "Ming O'rik yodgorligi",
                                       "Muyi Muborak madrasasi",    "Kaldirg'ochbiy maqbarasi",
                                       "Sheyxantaur ansambli",      "Shoshtepa qal'asi",
                                       "Qo'yliqtepa yodgorligi",    "Romanov saroyi",
                                       "Nurillaboy saroyi",         "Mirza Yusuf masjidi",
                                       "Hazrati Imom majmuasi",     "Oqtepa qal'asi"};

static const char *const surnames[] = {
    "Abdullayev",   "Aliyev",       "Azimov",     "Boboyev",   "Davletov", "Ergashev",
    "Fayzullayev",  "G'aniyev",     "Hasanov",    "Ibragimov", "Ismoilov", "Jo'rayev",
    "Karimov",      "Kamolov",      "Latipov",    "Mahmudov",  "Mirzayev", "Nazarov",
    "Normatov",     "Olimov",       "Qodirov",    "Rahimov",   "Rasulov",  "Saidov",
    "Salimov",      "Sharipov",     "Sultonov",   "Tursunov",  "Umarov",   "Usmonov",
    "Valiyev",      "Xolmatov",     "Yo'ldoshev", "Yusupov",   "Zokirov",  "Xudoyberdiyev",
    "Raximov",      "Toshpo'latov", "Qurbonov",   "Mamatov",   "Sobirov",  "Erkinov",
    "Abdurahmonov", "Bakirov"};

static const char *const male_names[] = {
    "Akmal",    "Alisher", "Anvar",   "Aziz",   "Bahodir", "Bekzod",  "Bobur",   "Dilshod",
    "Doniyor",  "Eldor",   "Farhod",  "Farrux", "G'ayrat", "Ibrohim", "Islom",   "Jahongir",
    "Jamshid",  "Javlon",  "Komil",   "Lochin", "Mansur",  "Murod",   "Nodir",   "Odil",
    "Otabek",   "Rustam",  "Sanjar",  "Sardor", "Sherzod", "Shuhrat", "Sobir",   "Temur",
    "Ulug'bek", "Umid",    "Xurshid", "Yusuf",  "Zafar",   "Zokir",   "Abdulla", "Husan"};

static const char *const female_names[] = {
    "Aziza",   "Barno",  "Dilafruz", "Dilnoza", "Feruza", "Gulnora", "Gulchehra", "Hilola",
    "Iroda",   "Kamola", "Laylo",    "Lola",    "Madina", "Malika",  "Mohira",    "Munisa",
    "Nargiza", "Nigora", "Nilufar",  "Ozoda",   "Rayhon", "Sabina",  "Sevara",    "Shahnoza",
    "Shoira",  "Umida",  "Yulduz",   "Zarina",  "Zuhra",  "Mohinur", "Gulbahor",  "Dildora"};

static const char *const org_words[] = {
    "Navbahor",   "Oltin Vodiy", "Bunyodkor", "Sharq",  "Zarafshon", "Yangi Asr", "Turon",
    "Ipak Yo'li", "Baraka",      "Obod",      "Nur",    "Samo",      "Kamolot",   "Istiqlol",
    "Bog'bon",    "Gulzor",      "Toshkent",  "Chinor", "Ulug'bek",  "Mehr",      "Orzu",
    "Zamin",      "Sarbon",      "Afrosiyob", "Imkon",  "Yuksalish", "Barkamol",  "Durdona",
    "Farovon",    "Shahrisabz",  "Omad",      "Kelajak"};

static const char *const org_trades[] = {"Savdo",    "Qurilish",   "Invest",    "Servis", "Agro",
                                         "Tekstil",  "Trans",      "Group",     "Stroy",  "Plast",
                                         "Metall",   "Oziq-ovqat", "Logistika", "Mebel",  "Farm",
                                         "Energiya", "Qog'oz",     "Sut",       "Non",    "Avto"};

static const char *const org_forms[] = {"MChJ", "MChJ", "MChJ", "AJ", "XK", "QK"};

static const char *const banks[KD_SAMPLE_N_BANKS] = {
    "Xalq banki AJ",   "Ipoteka-bank ATIB",        "Agrobank AJ", "Asaka bank AJ", "Hamkorbank ATB",
    "Kapitalbank ATB", "Qishloq qurilish bank AJ", "Turonbank AJ"};

const char *kd_sample_text_district(int bb)
{
    if (bb >= 1 && (size_t)bb <= COUNT(districts))
        return districts[bb - 1];
    return extra_districts[(size_t)(bb - 1 - (int)COUNT(districts)) % COUNT(extra_districts)];
}

const char *kd_sample_text_massiv(uint64_t h)
{
    return massivs[h % COUNT(massivs)];
}

const char *kd_sample_text_mahalla(uint64_t h)
{
    return mahallas[h % COUNT(mahallas)];
}

const char *kd_sample_text_street(uint64_t h)
{
    return streets[h % COUNT(streets)];
}

const char *kd_sample_text_heritage(uint64_t h)
{
    return heritage[h % COUNT(heritage)];
}

const char *kd_sample_text_bank(unsigned i)
{
    return banks[i % KD_SAMPLE_N_BANKS];
}

void kd_sample_text_person(struct kd_sample_txt *t, uint64_t h, int male)
{
    const char *sur = surnames[h % COUNT(surnames)];
    const char *father = male_names[(h >> 16) % COUNT(male_names)];

    h >>= 32;
    kd_sample_txt_s(t, sur);
    if (!male)
        kd_sample_txt_c(t, 'a'); /* Karimov -> Karimova */
    kd_sample_txt_c(t, ' ');
    kd_sample_txt_s(t, male ? male_names[h % COUNT(male_names)]
                            : female_names[h % COUNT(female_names)]);
    kd_sample_txt_c(t, ' ');
    kd_sample_txt_s(t, father);
    kd_sample_txt_s(t, male ? " o'g'li" : " qizi");
}

void kd_sample_text_org(struct kd_sample_txt *t, uint64_t h, int farm)
{
    if (farm) {
        if (h & 1) {
            kd_sample_txt_s(t, org_words[(h >> 8) % COUNT(org_words)]);
        } else {
            kd_sample_txt_s(t, surnames[(h >> 8) % COUNT(surnames)]);
            kd_sample_txt_c(t, ' ');
            kd_sample_txt_s(t, male_names[(h >> 24) % COUNT(male_names)]);
        }
        kd_sample_txt_s(t, " fermer xo'jaligi");
        return;
    }
    kd_sample_txt_s(t, org_words[h % COUNT(org_words)]);
    kd_sample_txt_c(t, ' ');
    kd_sample_txt_s(t, org_trades[(h >> 16) % COUNT(org_trades)]);
    kd_sample_txt_c(t, ' ');
    kd_sample_txt_s(t, org_forms[(h >> 32) % COUNT(org_forms)]);
}

/* A permutation of [0, m * m): four Feistel rounds over the two halves of x. A bijection for
 * any round function, and free of the digit patterns that a linear map leaves. */
static uint64_t permute(uint64_t x, uint64_t m, uint64_t seed)
{
    uint64_t l = x / m, r = x % m, t;
    int k;

    for (k = 0; k < 4; k++) {
        t = (l + kd_sample_hash(seed, 0x46454953, k, (int64_t)r)) % m;
        l = r;
        r = t;
    }
    return l * m + r;
}

void kd_sample_text_pinfl(char out[15], uint64_t idx, uint64_t seed, int *male)
{
    /* born 1940-01-01 .. 2006-12-31: owners are adults */
    const int32_t first = kd_sample_text_days(1940, 1, 1);
    const int32_t n_days = kd_sample_text_days(2006, 12, 31) - first + 1;
    uint64_t res = idx % 1000000, q = idx / 1000000;
    uint64_t h = kd_sample_hash(seed, 0x50494e46, (int64_t)res, 0);
    /* persons sharing idx mod 10^6 differ by birth date; the others by digits 8-13 */
    int32_t day = first + (int32_t)(((h >> 1) % (uint64_t)n_days + q) % (uint64_t)n_days);
    int is_male = (int)(h & 1), y, m, d;
    struct kd_sample_txt t;

    kd_sample_text_civil(day, &y, &m, &d);
    kd_sample_txt_init(&t, out, 15);
    kd_sample_txt_u(&t, (uint64_t)((y >= 2000 ? 5 : 3) + !is_male), 1);
    kd_sample_txt_u(&t, (uint64_t)d, 2);
    kd_sample_txt_u(&t, (uint64_t)m, 2);
    kd_sample_txt_u(&t, (uint64_t)(y % 100), 2);
    kd_sample_txt_u(&t, permute(res, 1000, seed), 6);
    kd_sample_txt_u(&t, (uint64_t)kd_pinfl_check_digit(out), 1);
    *male = is_male;
}

void kd_sample_text_stir(char out[10], uint64_t idx, uint64_t seed)
{
    struct kd_sample_txt t;

    kd_sample_txt_init(&t, out, 10);
    kd_sample_txt_c(&t, '2');
    kd_sample_txt_u(&t, permute(idx % 100000000, 10000, seed ^ UINT64_C(0x53544952)), 8);
}
