/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test_ckpt.c: checkpoint round trips in every stored dtype, float16 rounding, and every rejection's message. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "ckpt_write.h"
#include "tap.h"

#define CONFIG "{\"type\":\"MusicVAE\",\"dataConverter\":{\"type\":\"MelodyConverter\",\"args\":{\"numSteps\":32}}}"

static char root[64];
static int ncase;
static int verbose;

static void
rm_tree(const char *dir)
{
	char path[512];
	struct dirent *e;
	struct stat st;
	DIR *d = opendir(dir);

	while (d && (e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
			rm_tree(path);
		else
			unlink(path);
	}
	if (d)
		closedir(d);
	rmdir(dir);
}

static void
put(const char *dir, const char *name, const void *data, size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (f == NULL || fwrite(data, 1, len, f) != len) {
		diag("cannot write %s", path);
		exit(2);
	}
	fclose(f);
}

static void
put_text(const char *dir, const char *name, const char *text)
{
	put(dir, name, text, strlen(text));
}

/* A fresh directory root/caseN in buf. */
static const char *
new_dir(char *buf, size_t len)
{
	snprintf(buf, len, "%s/case%d", root, ++ncase);
	if (mkdir(buf, 0700) != 0) {
		diag("mkdir %s failed", buf);
		exit(2);
	}
	return buf;
}

static void
put_f32(unsigned char *b, float v)
{
	uint32_t u;

	memcpy(&u, &v, sizeof u);
	b[0] = (unsigned char)u, b[1] = (unsigned char)(u >> 8), b[2] = (unsigned char)(u >> 16);
	b[3] = (unsigned char)(u >> 24);
}

/* The base fixture: w [2,3] and b [3] float32 (36 bytes) in shards s1 (20 bytes) and s2 (s2_len bytes). */
static const char *
fixture(char *buf, size_t len, const char *config, const char *manifest, size_t s2_len, int nan_at)
{
	unsigned char bytes[64];
	int i;

	new_dir(buf, len);
	for (i = 0; i < 16; i++)
		put_f32(bytes + 4 * i, i == nan_at ? NAN : (float)i * 0.5f - 2.0f);
	put_text(buf, "config.json", config);
	put_text(buf, "weights_manifest.json", manifest);
	put(buf, "s1", bytes, 20);
	if (s2_len != (size_t)-1)
		put(buf, "s2", bytes + 20, s2_len);
	return buf;
}

#define MANIFEST_HEAD "[{\"paths\":[\"s1\",\"s2\"],\"weights\":["
#define WGT_OK "{\"name\":\"w\",\"shape\":[2,3],\"dtype\":\"float32\"}"
#define B_OK "{\"name\":\"b\",\"shape\":[3],\"dtype\":\"float32\"}"
#define MANIFEST_OK MANIFEST_HEAD WGT_OK "," B_OK "]}]"

static int
has(const char *err, const char *a, const char *b)
{
	return strstr(err, a) != NULL && (b == NULL || strstr(err, b) != NULL);
}

/* ckpt_open must fail with a message containing a and b. */
static void
expect_fail(const char *what, const char *dir, const char *a, const char *b)
{
	struct ckpt c;
	char err[1024] = "";
	int r = ckpt_open(&c, dir, err, sizeof err);

	if (!ok(r == -1 && has(err, a, b) && c.t == NULL && c.dir == NULL, "rejects %s", what) || verbose)
		diag("  r=%d err: %s", r, err);
	ckpt_close(&c);
}

static void
test_rejections(void)
{
	char d[256], path[512];

	expect_fail("a short shard (names shard and tensor)", fixture(d, sizeof d, CONFIG, MANIFEST_OK, 12, -1),
	    "shard 's2'", "tensor 'b'");
	expect_fail("extra bytes in a shard", fixture(d, sizeof d, CONFIG, MANIFEST_OK, 20, -1),
	    "shard 's2' has 4 extra bytes", "'b'");
	expect_fail("a missing shard file", fixture(d, sizeof d, CONFIG, MANIFEST_OK, (size_t)-1, -1),
	    "shard 's2'", "No such file");
	expect_fail("garbage in config.json (file:line)", fixture(d, sizeof d,
	    "{\n  \"type\": \"MusicVAE\",\n  oops\n}", MANIFEST_OK, 16, -1), "config.json:3:", NULL);
	expect_fail("garbage in weights_manifest.json (file:line)", fixture(d, sizeof d, CONFIG,
	    "[{\"paths\":[\"s1\",\"s2\"],\n\"weights\":[,]}]", 16, -1), "weights_manifest.json:2:", NULL);
	fixture(d, sizeof d, CONFIG, MANIFEST_OK, 16, -1);
	snprintf(path, sizeof path, "%s/config.json", d);
	unlink(path);
	expect_fail("a missing config.json", d, "config.json", "No such file");
	expect_fail("an unknown dtype", fixture(d, sizeof d, CONFIG, MANIFEST_HEAD
	    "{\"name\":\"w\",\"shape\":[2,3],\"dtype\":\"float64\"}," B_OK "]}]", 16, -1),
	    "tensor 'w'", "unknown dtype 'float64'");
	expect_fail("an unknown quantization dtype", fixture(d, sizeof d, CONFIG, MANIFEST_HEAD
	    "{\"name\":\"w\",\"shape\":[2,3],\"dtype\":\"float32\",\"quantization\":{\"dtype\":\"int4\"}}," B_OK
	    "]}]", 16, -1), "tensor 'w'", "unknown quantization dtype 'int4'");
	expect_fail("uint8 quantization without scale", fixture(d, sizeof d, CONFIG, MANIFEST_HEAD
	    "{\"name\":\"w\",\"shape\":[2,3],\"dtype\":\"float32\",\"quantization\":{\"dtype\":\"uint8\",\"min\":0}},"
	    B_OK "]}]", 16, -1), "tensor 'w'", "scale");
	expect_fail("a '..' shard path", fixture(d, sizeof d, CONFIG,
	    "[{\"paths\":[\"s1\",\"x/../../s2\"],\"weights\":[" WGT_OK "," B_OK "]}]", 16, -1), "'x/../../s2'", "escapes");
	expect_fail("an absolute shard path", fixture(d, sizeof d, CONFIG,
	    "[{\"paths\":[\"/etc/passwd\"],\"weights\":[" WGT_OK "]}]", 16, -1), "'/etc/passwd'", "absolute");
	expect_fail("a duplicate tensor name", fixture(d, sizeof d, CONFIG, MANIFEST_HEAD
	    "{\"name\":\"b\",\"shape\":[6],\"dtype\":\"float32\"}," B_OK "]}]", 16, -1), "tensor 'b'", "twice");
	expect_fail("a NaN weight (names tensor)", fixture(d, sizeof d, CONFIG, MANIFEST_OK, 16, 4),
	    "tensor 'w'", "non-finite");
	expect_fail("a config without type MusicVAE", fixture(d, sizeof d, "{\"type\":\"GrooveVAE\"}",
	    MANIFEST_OK, 16, -1), "config.json", "\"MusicVAE\"");
	expect_fail("a config that is not an object", fixture(d, sizeof d, "[1]", MANIFEST_OK, 16, -1),
	    "config.json", "object");
	expect_fail("5 dimensions", fixture(d, sizeof d, CONFIG, MANIFEST_HEAD
	    "{\"name\":\"w\",\"shape\":[1,1,2,1,3],\"dtype\":\"float32\"}," B_OK "]}]", 16, -1), "tensor 'w'", "5 dim");
	expect_fail("a negative dimension", fixture(d, sizeof d, CONFIG, MANIFEST_HEAD
	    "{\"name\":\"w\",\"shape\":[-2,3],\"dtype\":\"float32\"}," B_OK "]}]", 16, -1), "tensor 'w'", "range");
	expect_fail("an overflowing element count", fixture(d, sizeof d, CONFIG, MANIFEST_HEAD
	    "{\"name\":\"w\",\"shape\":[2147483647,2147483647,2147483647,2147483647],\"dtype\":\"float32\"}," B_OK
	    "]}]", 16, -1), "tensor 'w'", "overflow");
	expect_fail("a weight without a name", fixture(d, sizeof d, CONFIG, MANIFEST_HEAD
	    "{\"shape\":[2,3],\"dtype\":\"float32\"}," B_OK "]}]", 16, -1), "group 1 weight 1", "name");
	expect_fail("a manifest that is an object", fixture(d, sizeof d, CONFIG, "{}", 16, -1),
	    "weights_manifest.json", "array");
}

/* Quantized data whose dequantized value overflows float32 and a float16 infinity are non-finite too. */
static void
test_nonfinite_quantized(void)
{
	unsigned char b[4] = { 0, 255, 0x00, 0x7c }, h[4] = { 0x00, 0x3c, 0x00, 0x7c };
	char d[256];

	new_dir(d, sizeof d);
	put_text(d, "config.json", CONFIG);
	put_text(d, "weights_manifest.json", "[{\"paths\":[\"s\"],\"weights\":["
	    "{\"name\":\"q\",\"shape\":[2],\"dtype\":\"float32\",\"quantization\":{\"dtype\":\"uint8\",\"scale\":1e300,"
	    "\"min\":0}}]}]");
	put(d, "s", b, 2);
	expect_fail("a uint8 weight that dequantizes past float32", d, "tensor 'q'", "(inf) at element 1");
	new_dir(d, sizeof d);
	put_text(d, "config.json", CONFIG);
	put_text(d, "weights_manifest.json", "[{\"paths\":[\"s\"],\"weights\":["
	    "{\"name\":\"h\",\"shape\":[2],\"dtype\":\"float32\",\"quantization\":{\"dtype\":\"float16\"}}]}]");
	put(d, "s", h, 4);
	expect_fail("a float16 infinity", d, "tensor 'h'", "non-finite value (inf) at element 1");
}

/* Hand-written uint8/uint16/float16 shards in two groups; elements straddle the shard cuts. */
static void
test_handwritten(void)
{
	/* group 1: u8 [3] q = 0, 1, 255 | group 2: u16 [2] q = 1, 65535 then f16 [2] = 1.0, -2^-24; cut at 3 and 5 */
	unsigned char g2[] = { 0x01, 0x00, 0xff, 0xff, 0x00, 0x3c, 0x01, 0x80 };
	unsigned char g1[] = { 0, 1, 255 };
	struct ckpt c;
	const struct ckpt_tensor *u8, *u16, *f16;
	char d[256], err[512] = "";

	new_dir(d, sizeof d);
	put_text(d, "config.json", CONFIG);
	put_text(d, "weights_manifest.json", "[{\"paths\":[\"g1\"],\"weights\":["
	    "{\"name\":\"u8\",\"shape\":[3],\"dtype\":\"float32\",\"quantization\":{\"dtype\":\"uint8\",\"scale\":0.1,"
	    "\"min\":-1.0}}]},{\"paths\":[\"a\",\"sub/b\",\"c\"],\"weights\":["
	    "{\"name\":\"u16\",\"shape\":[2],\"dtype\":\"float32\",\"quantization\":{\"dtype\":\"uint16\","
	    "\"scale\":3.0517578125e-05,\"min\":0.3}},"
	    "{\"name\":\"f16\",\"shape\":[1,2],\"dtype\":\"float32\",\"quantization\":{\"dtype\":\"float16\"}}]}]");
	put(d, "g1", g1, 3);
	put(d, "a", g2, 3);
	mkdir(strcat(strcpy(err, d), "/sub"), 0700);
	put(d, "sub/b", g2 + 3, 2);
	put(d, "c", g2 + 5, 3);
	if (!ok(ckpt_open(&c, d, err, sizeof err) == 0, "opens two groups with straddling uint16/float16")) {
		diag("  %s", err);
		skip(4, "did not open");
		return;
	}
	u8 = ckpt_find(&c, "u8"), u16 = ckpt_find(&c, "u16"), f16 = ckpt_find(&c, "f16");
	ok(u8 && u8->data[0] == (float)(0 * 0.1 + -1.0) && u8->data[1] == (float)(1 * 0.1 + -1.0) &&
	    u8->data[2] == (float)(255 * 0.1 + -1.0) && u8->stored == CKPT_UINT8, "uint8 = (float)((double)q*s+m)");
	ok(u16 && u16->data[0] == (float)(1 * 3.0517578125e-05 + 0.3) &&
	    u16->data[1] == (float)(65535 * 3.0517578125e-05 + 0.3), "uint16 = (float)((double)q*s+m) across shards");
	ok(f16 && f16->ndim == 2 && f16->data[0] == 1.0f && f16->data[1] == -0x1p-24f, "float16 across shards");
	is_int((long long)c.stored_bytes, 11, "stored_bytes counts every group");
	ckpt_close(&c);
}

static void
test_get(void)
{
	static const int w_any[] = { 2, -1 }, w_bad[] = { 3, -1 }, b_one[] = { -1 };
	char d[256], err[512], want[768];
	struct ckpt c;

	fixture(d, sizeof d, CONFIG, MANIFEST_OK, 16, -1);
	if (!ok(ckpt_open(&c, d, err, sizeof err) == 0, "opens the fixture")) {
		diag("  %s", err);
		skip(6, "did not open");
		return;
	}
	ok(ckpt_get(&c, "w", 2, w_any, err, sizeof err) == ckpt_find(&c, "w") && c.t[0].data[5] == 0.5f,
	    "ckpt_get matches [2,*]");
	ok(ckpt_get(&c, "b", 1, b_one, err, sizeof err) != NULL && c.t[1].data[2] == 2.0f, "ckpt_get matches [*]");
	ok(ckpt_get(&c, "w", 2, w_bad, err, sizeof err) == NULL, "ckpt_get rejects a wrong shape");
	snprintf(want, sizeof want, "checkpoint %s: tensor 'w' has shape [2,3], expected [3,*] "
	    "(weights_manifest.json)", d);
	if (!ok(strcmp(err, want) == 0, "the shape message names tensor, both shapes and the file"))
		diag("  got: %s", err);
	ok(ckpt_get(&c, "b", 2, w_any, err, sizeof err) == NULL && has(err, "[3], expected [2,*]", NULL),
	    "ckpt_get rejects a wrong rank");
	ok(ckpt_get(&c, "encoder/mu/kernel", 2, w_any, err, sizeof err) == NULL &&
	    has(err, "tensor 'encoder/mu/kernel' is missing from weights_manifest.json", d), "missing tensor message");
	ckpt_close(&c);
}

static uint64_t rng_state;

static float
rnd(void)
{
	rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
	return (float)((double)(rng_state >> 11) * 0x1p-53 * 6.0 - 2.5);
}

#define NT 5

/* What ckpt_open must return for v stored as dt: independent of ckpt.c except for the float16 rounding. */
static float
expect_value(const float *v, size_t n, size_t i, enum ckpt_dtype dt)
{
	double lo = v[0], hi = v[0], scale, q;
	size_t k;

	if (dt == CKPT_FLOAT32)
		return v[i];
	if (dt == CKPT_FLOAT16)
		return ckpt_f16_to_f32(ckpt_f32_to_f16(v[i]));
	for (k = 1; k < n; k++)
		lo = v[k] < lo ? v[k] : lo, hi = v[k] > hi ? v[k] : hi;
	scale = hi > lo ? (hi - lo) / (dt == CKPT_UINT8 ? 255.0 : 65535.0) : 1.0;
	q = nearbyint(((double)v[i] - lo) / scale);
	return (float)(q * scale + lo);
}

static void
test_round_trip(enum ckpt_dtype dt, const char *dtname)
{
	static float a[3 * 5], b[7], s[1], u[4];
	struct ckpt_wtensor w[NT] = {
		{ "a/kernel", 2, { 3, 5 }, a }, { "b/bias", 1, { 7 }, b }, { "scalar", 0, { 0 }, s },
		{ "empty", 2, { 0, 4 }, NULL }, { "uniform", 3, { 2, 1, 2 }, u },
	};
	const struct ckpt_tensor *t;
	size_t i, k, bad = 0, esize = dt == CKPT_FLOAT32 ? 4 : dt == CKPT_UINT8 ? 1 : 2;
	char d[256], err[512], path[512];
	struct ckpt c;
	struct stat st;
	json_t *want;

	for (i = 0; i < 15; i++)
		a[i] = rnd();
	for (i = 0; i < 7; i++)
		b[i] = rnd() * 1e-3f;
	s[0] = -3.25f, u[0] = u[1] = u[2] = u[3] = 0.7f;
	new_dir(d, sizeof d);
	strcat(d, "/out");      /* ckpt_write creates the directory */
	if (!ok(ckpt_write(d, CONFIG, w, NT, dt, 7, err, sizeof err) == 0, "%s: ckpt_write, 7-byte shards", dtname) ||
	    !ok(ckpt_open(&c, d, err, sizeof err) == 0, "%s: ckpt_open reads it back", dtname)) {
		diag("  %s", err);
		skip(4, "no checkpoint");
		return;
	}
	for (i = 0; i < NT; i++) {
		t = ckpt_get(&c, w[i].name, w[i].ndim, w[i].shape, err, sizeof err);
		for (k = 0; t && k < t->count; k++)
			bad += memcmp(&t->data[k], &(float){ expect_value(w[i].data, t->count, k, dt) }, 4) != 0;
		bad += t == NULL || t->stored != dt || t != &c.t[i];
	}
	is_int((long long)bad, 0, "%s: every value exact (quantized: the double formula), manifest order kept", dtname);
	is_int((long long)c.stored_bytes, (long long)(esize * (15 + 7 + 1 + 0 + 4)), "%s: stored_bytes", dtname);
	snprintf(path, sizeof path, "%s/group1-shard%zuof%zu", d, (c.stored_bytes + 6) / 7, (c.stored_bytes + 6) / 7);
	ok(stat(path, &st) == 0 && st.st_size == (off_t)(c.stored_bytes - 7 * ((c.stored_bytes - 1) / 7)),
	    "%s: last shard %s holds the remainder", dtname, strrchr(path, '/') + 1);
	want = json_loads(CONFIG, 0, NULL);
	ok(json_equal(c.config, want), "%s: config.json written verbatim and parsed", dtname);
	json_decref(want);
	ckpt_close(&c);
}

static void
test_f16(void)
{
	unsigned h, bad = 0;
	float f;

	for (h = 0; h < 0x10000; h++) {
		f = ckpt_f16_to_f32((uint16_t)h);
		if (isnan(f) ? !isnan(f) || ((h & 0x7c00) != 0x7c00) : ckpt_f32_to_f16(f) != h)
			bad++;
	}
	is_int(bad, 0, "all 65536 halves survive half -> float -> half");
	ok(ckpt_f16_to_f32(0x3c00) == 1.0f && ckpt_f16_to_f32(0x0001) == 0x1p-24f && ckpt_f16_to_f32(0x03ff) ==
	    0x3ffp-24f && ckpt_f16_to_f32(0x7bff) == 65504.0f && isinf(ckpt_f16_to_f32(0xfc00)) &&
	    isnan(ckpt_f16_to_f32(0x7e00)) && signbit(ckpt_f16_to_f32(0x8000)), "known halves incl. subnormals");
	ok(ckpt_f32_to_f16(1.0f + 0x1p-11f) == 0x3c00 && ckpt_f32_to_f16(1.0f + 0x3p-11f) == 0x3c02 &&
	    ckpt_f32_to_f16(0x1p-25f) == 0 && ckpt_f32_to_f16(0x1.000002p-25f) == 1 &&
	    ckpt_f32_to_f16(0x3p-25f) == 2 && ckpt_f32_to_f16(0x7ffp-25f) == 0x0400 &&
	    ckpt_f32_to_f16(65519.996f) == 0x7bff && ckpt_f32_to_f16(65520.0f) == 0x7c00 &&
	    ckpt_f32_to_f16(-1e9f) == 0xfc00 && ckpt_f32_to_f16(NAN) == 0x7e00, "float -> half rounds to nearest even");
#ifdef __FLT16_MANT_DIG__
	{
		uint32_t u;
		_Float16 x;
		uint16_t hx;

		for (bad = 0, h = 0; h < 2000000; h++) {
			rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
			u = (uint32_t)(rng_state >> 32);
			memcpy(&f, &u, 4);
			if (isnan(f))
				continue;
			x = (_Float16)f;
			memcpy(&hx, &x, 2);
			bad += hx != ckpt_f32_to_f16(f);
		}
		is_int(bad, 0, "float -> half agrees with the compiler's _Float16 on 2e6 random floats");
	}
#else
	skip(1, "the compiler has no _Float16 to compare with");
#endif
}

static void
test_write_errors(void)
{
	static const float bad[2] = { 1.0f, INFINITY };
	struct ckpt_wtensor w[2] = { { "x", 1, { 2 }, bad }, { "x", 0, { 0 }, bad } };
	char d[256], err[512];

	new_dir(d, sizeof d);
	ok(ckpt_write(d, CONFIG, w, 1, CKPT_UINT8, 0, err, sizeof err) == -1 && has(err, "tensor 'x'", "non-finite"),
	    "ckpt_write rejects a non-finite weight");
	ok(ckpt_write(d, CONFIG, w + 1, 1, CKPT_FLOAT32, 0, err, sizeof err) == 0 &&
	    ckpt_write(d, CONFIG, (struct ckpt_wtensor[]){ w[1], w[1] }, 2, CKPT_FLOAT32, 0, err, sizeof err) == -1 &&
	    has(err, "'x'", "twice"), "ckpt_write rejects a duplicate name");
	ok(ckpt_write(d, CONFIG, (struct ckpt_wtensor[]){ { "big", 1, { 1 }, (float[]){ 70000.0f } } }, 1,
	    CKPT_FLOAT16, 0, err, sizeof err) == -1 && has(err, "'big'", "float16"),
	    "ckpt_write rejects a value too large for float16");
}

int
main(int argc, char **argv)
{
	rng_state = argc > 1 ? strtoull(argv[1], NULL, 0) : 20240601;
	verbose = getenv("CKPT_TEST_VERBOSE") != NULL;
	plan(65);
	diag("seed %llu (pass it as argv[1] to replay)", (unsigned long long)rng_state);
	strcpy(root, "/tmp/test_ckpt-XXXXXX");
	if (mkdtemp(root) == NULL) {
		diag("mkdtemp failed");
		return 2;
	}
	test_f16();
	test_round_trip(CKPT_FLOAT32, "float32");
	test_round_trip(CKPT_UINT8, "uint8");
	test_round_trip(CKPT_UINT16, "uint16");
	test_round_trip(CKPT_FLOAT16, "float16");
	test_handwritten();
	test_get();
	test_rejections();
	test_nonfinite_quantized();
	test_write_errors();
	rm_tree(root);
	return done_testing();
}
