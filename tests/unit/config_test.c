/*
 * Unit tests for core/config: valid files, every kind of error (with file,
 * line and key in the message, all of them in one run), environment and
 * -o overrides and their precedence, masking in the printed output.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "core/config.h"
#include "ha_kconfig.h"

#define BASE \
	"[cluster]\nname = c1\nnode = n1\n" \
	"[node n1]\naddress = 10.0.0.11\n" \
	"[node n2]\naddress = 10.0.0.12\n" \
	"[node w]\naddress = 10.0.0.13\nrole = witness\n"

static struct ha_cfg *
parse_env(const char *text, char **env, const char **ov, size_t n_ov,
    size_t *n_err)
{
	return ha_cfg_parse("t.conf", text, strlen(text), env, ov, n_ov, n_err);
}

static struct ha_cfg *
parse(const char *text, size_t *n_err)
{
	return parse_env(text, NULL, NULL, 0, n_err);
}

/* Parse text that must fail; 1 when it did and msg was logged. */
static int
fails_with(const char *text, const char *msg)
{
	size_t n;
	struct ha_cfg *cfg;

	t_clear_log();
	cfg = parse(text, &n);
	if (cfg) {
		ha_cfg_free(cfg);
		return 0;
	}
	if (!logged(msg))
		fprintf(stderr, "expected '%s' in:\n%s", msg, t_log.s);
	return n > 0 && logged(msg);
}

TEST(valid_full)
{
	size_t n;
	struct ha_cfg *cfg = parse(BASE
	    "[vip backend]\naddress = 10.0.0.100/24\ninterface = eth0\n"
	    "[sync ca]\npath = /etc/ca\nwatch = yes\nexclude = *.tmp\n"
	    "exclude = *.swp .#*\n"
	    "[check web]\ntype = http\ntarget = http://127.0.0.1:80/\n"
	    "[service web]\nstart = /bin/true\nstop = /bin/false\n", &n);

	CHECK(cfg != NULL && n == 0);
	if (cfg == NULL)
		return;
	CHECK(strcmp(cfg->cluster->name, "c1") == 0);
	CHECK(cfg->cluster->port == 7405);
	CHECK(cfg->cluster->heartbeat_ms == 100);
	CHECK(cfg->cluster->lease_ms == 1000);
	CHECK(cfg->cluster->failover == 1);
	CHECK(strcmp(cfg->cluster->state_dir, "/var/lib/habox") == 0);
	CHECK(cfg->cluster->psk_file == NULL);
	CHECK(cfg->n_nodes == 3);
	CHECK(cfg->self == &cfg->nodes[0]);
	CHECK(cfg->nodes[0].port == 7405 && cfg->nodes[0].priority == 100);
	CHECK(cfg->nodes[2].role == HA_ROLE_WITNESS);
	CHECK(ha_cfg_n_members(cfg) == 2 && ha_cfg_n_witnesses(cfg) == 1);
	CHECK(cfg->n_vips == 1 && cfg->vips[0].address.prefix == 24);
	CHECK(strcmp(cfg->vips[0].interface, "eth0") == 0);
	CHECK(cfg->vips[0].count == 5 && cfg->vips[0].interval_ms == 200);
	CHECK(cfg->postgres == NULL);
	CHECK(cfg->n_syncs == 1 && cfg->syncs[0].watch == 1);
	CHECK(cfg->syncs[0].exclude.n == 3);
	CHECK(cfg->syncs[0].exclude.n == 3 &&
	    strcmp(cfg->syncs[0].exclude.v[2], ".#*") == 0);
	CHECK(cfg->n_checks == 1 && cfg->checks[0].type == HA_CHECK_HTTP);
	CHECK(cfg->checks[0].fall == 3 && cfg->checks[0].rise == 2);
	CHECK(cfg->n_services == 1 &&
	    strcmp(cfg->services[0].stop, "/bin/false") == 0);
	CHECK(ha_cfg_vip(cfg, "backend") == &cfg->vips[0]);
	CHECK(ha_cfg_sync(cfg, "nope") == NULL);
	CHECK(logged_count("[WARNING]") == 0);
	ha_cfg_free(cfg);
}

TEST(postgres_section)
{
	size_t n;
	struct ha_cfg *cfg = parse(BASE "[postgres]\n"
	    "data_dir = /var/lib/postgresql/15/main\n"
	    "max_lag_on_failover = 2MB\n", &n);

	if (!CONFIG_HAPROM) {
		/* Without haprom nothing could act on it: refused, not ignored. */
		CHECK(cfg == NULL && logged("t.conf:11: [postgres]: this habox is "
		    "built without haprom (CONFIG_HAPROM=n)"));
		return;
	}
	CHECK(cfg != NULL && cfg->postgres != NULL);
	if (cfg == NULL || cfg->postgres == NULL)
		return;
	CHECK(cfg->postgres->max_lag_on_failover == 2 * 1048576);
	CHECK(strcmp(cfg->postgres->bin_dir, "/usr/lib/postgresql/15/bin") == 0);
	CHECK(strcmp(cfg->postgres->conninfo,
	    "host=/run/postgresql dbname=postgres") == 0);
	CHECK(cfg->postgres->fence == HA_FENCE_READ_ONLY);
	ha_cfg_free(cfg);
}

TEST(syntax_forgiveness)
{
	size_t n;
	/* BOM, CRLF, indentation, comments, inline comments, blank lines. */
	struct ha_cfg *cfg = parse("\xef\xbb\xbf; top comment\r\n"
	    "# another\r\n\r\n  [cluster]  ; trailing\r\n"
	    "\tname = c1 ; inline\r\n  node=n1\r\n"
	    "heartbeat = 50ms;notacomment\r\n"
	    "[node n1]\naddress = 10.0.0.11\n", &n);

	CHECK(cfg == NULL);
	CHECK(logged("t.conf:7: [cluster] heartbeat: '50ms;notacomment'"));
	cfg = parse("\xef\xbb\xbf; top comment\r\n"
	    "# another\r\n\r\n  [cluster]  ; trailing\r\n"
	    "\tname = c1 ; inline\r\n  node=n1\r\n"
	    "[node n1]\naddress = 10.0.0.11\n", &n);
	CHECK(cfg != NULL);
	if (cfg) {
		CHECK(strcmp(cfg->cluster->name, "c1") == 0);
		CHECK(strcmp(cfg->cluster->node, "n1") == 0);
		/* one member alone: a warning, not an error */
		CHECK(logged("nothing to fail over to"));
	}
	ha_cfg_free(cfg);
}

TEST(errors_name_file_line_key)
{
	CHECK(fails_with(BASE "[nodes x]\n", "t.conf:11: unknown section "
	    "[nodes]"));
	CHECK(fails_with(BASE "[cluster]\n", "t.conf:11: duplicate section "
	    "[cluster] (first at line 1)"));
	CHECK(fails_with(BASE "[node n1]\n", "t.conf:11: duplicate section "
	    "[node n1] (first at line 4)"));
	CHECK(fails_with("[cluster]\nname = a\nname = b\nnode = n1\n"
	    "[node n1]\naddress = 10.0.0.1\n", "t.conf:3: [cluster] name: "
	    "duplicate key "
	    "(first at line 2)"));
	CHECK(fails_with("[cluster]\nname = a\nnode = n1\nprot = 1\n"
	    "[node n1]\naddress = 10.0.0.1\n", "t.conf:4: [cluster] prot: "
	    "unknown key (did you mean 'port'?)"));
	CHECK(fails_with(BASE "port = 99999\n", "t.conf:11: [node w] port: "
	    "'99999': out of range (1-65534)"));
	CHECK(fails_with("[cluster]\nname = a\nnode = n1\nheartbeat = 5\n"
	    "[node n1]\naddress = 10.0.0.1\n", "t.conf:4: [cluster] heartbeat: "
	    "'5': a duration needs a unit"));
	CHECK(fails_with(BASE "[node n5]\naddress = 10.0.0.5\nrole = boss\n",
	    "t.conf:13: [node n5] role: "
	    "'boss': not one of the allowed values (member, witness)"));
	CHECK(fails_with(BASE "[node n3]\naddress = 10.0.0\n",
	    "t.conf:12: [node n3] address: '10.0.0': not an IPv4"));
	CHECK(fails_with(BASE "[sync s]\npath = relative/dir\n",
	    "t.conf:12: [sync s] path: 'relative/dir': must be an absolute path"));
	CHECK(fails_with(BASE "[vip v]\naddress = 10.0.0.1\ninterface = eth0\n",
	    "t.conf:12: [vip v] address: '10.0.0.1': not ADDRESS/PREFIX"));
	CHECK(fails_with(BASE "[vip v]\naddress = 10.0.0.1/8\n"
	    "interface = averyveryverylongname\n", "t.conf:13: [vip v] "
	    "interface: 'averyveryverylongname': not an interface name"));
	CHECK(fails_with(BASE "[sync s]\nwatch = perhaps\n", "t.conf:12: "
	    "[sync s] watch: 'perhaps': not a boolean"));
	CHECK(fails_with(BASE "[postgres]\ndata_dir = /d\n"
	    "max_lag_on_failover = lots\n", "t.conf:13: [postgres] "
	    "max_lag_on_failover: 'lots': not a size"));
	CHECK(fails_with(BASE "[sync s]\n", "t.conf:11: [sync s]: path: "
	    "missing (required)"));
	CHECK(fails_with(BASE "[node]\n", "t.conf:11: [node] needs a name"));
	CHECK(fails_with(BASE "[cluster x]\n", "t.conf:11: [cluster] takes no "
	    "name"));
	CHECK(fails_with(BASE "[node a.b]\n", "t.conf:11: [node a.b]: a name is"));
	CHECK(fails_with(BASE "[node x\n", "t.conf:11: section header without "
	    "']'"));
	CHECK(fails_with(BASE "[node x] y\n", "t.conf:11: text after the "
	    "section header"));
	CHECK(fails_with("name = x\n" BASE, "t.conf:1: key outside a section"));
	CHECK(fails_with(BASE "just words\n", "t.conf:11: expected 'key = value'"));
	CHECK(fails_with(BASE "= value\n", "t.conf:11: expected 'key = value'"));
}

TEST(bad_bytes)
{
	char buf[256];
	size_t n, len;
	struct ha_cfg *cfg;

	len = (size_t)snprintf(buf, sizeof(buf), "%s", BASE "priority = 1");
	buf[len - 3] = '\0';	/* a NUL byte inside a value */
	cfg = ha_cfg_parse("t.conf", buf, len, NULL, NULL, 0, &n);
	CHECK(cfg == NULL && logged("t.conf:11: NUL byte at column 10"));
	CHECK(fails_with(BASE "priority = 1\x01\n", "t.conf:11: control "
	    "character 0x01 at column 13"));
	CHECK(fails_with(BASE "priority = \xff\xfe\n", "t.conf:11: invalid "
	    "UTF-8 (byte 0xff at column 12)"));
	CHECK(fails_with(BASE "priority = \xc3\n", "invalid UTF-8"));
	CHECK(fails_with(BASE "[sync s]\npath = /caf\xc3\xa9\nexclude = "
	    "\xe2\x82\n", "t.conf:13: invalid UTF-8"));
}

TEST(utf8_accepted)
{
	size_t n;
	struct ha_cfg *cfg = parse(BASE "[sync s]\npath = /srv/caf\xc3\xa9 "
	    "\xe2\x82\xac\n", &n);

	CHECK(cfg != NULL);
	if (cfg)
		CHECK(strcmp(cfg->syncs[0].path, "/srv/caf\xc3\xa9 \xe2\x82\xac")
		    == 0);
	ha_cfg_free(cfg);
}

TEST(long_line)
{
	struct ha_buf b = { 0 };
	size_t n, i;
	struct ha_cfg *cfg;

	ha_buf_puts(&b, BASE "[sync s]\npath = /");
	for (i = 0; i < 100000; i++)
		ha_buf_puts(&b, "x");
	ha_buf_puts(&b, "\npath = /ok\n");
	cfg = parse(b.s, &n);
	CHECK(cfg == NULL);
	CHECK(logged("t.conf:12: line longer than 4000 bytes"));
	/* Nothing of the long line was taken: no duplicate-key error. */
	CHECK(!logged("duplicate"));
	CHECK(n == 1);
	ha_buf_free(&b);
}

TEST(all_errors_in_one_run)
{
	size_t n;
	struct ha_cfg *cfg = parse("[cluster]\nname = a\nnode = n1\n"
	    "port = x\nlease = forever\n[node n1]\naddress = nowhere\n"
	    "[bogus]\n[vip v]\naddress = 1/2\n", &n);

	CHECK(cfg == NULL);
	CHECK(n == 6);
	CHECK(logged("t.conf:4: [cluster] port"));
	CHECK(logged("t.conf:5: [cluster] lease"));
	CHECK(logged("t.conf:7: [node n1] address"));
	CHECK(logged("t.conf:8: unknown section [bogus]"));
	CHECK(logged("t.conf:10: [vip v] address"));
	CHECK(logged("t.conf:9: [vip v]: interface: missing (required)"));
}

TEST(cross_checks)
{
	size_t n;
	struct ha_cfg *cfg;

	CHECK(fails_with("[node n1]\naddress = 10.0.0.1\n", "no [cluster] "
	    "section"));
	CHECK(fails_with("[cluster]\nname = a\nnode = n9\n[node n1]\naddress"
	    " = 10.0.0.1\n", "t.conf:3: [cluster] node: this node 'n9' has no "
	    "[node n9] section"));
	CHECK(fails_with("[cluster]\nname = a\nnode = w\n[node w]\naddress"
	    " = 10.0.0.1\nrole = witness\n", "no member node"));
	CHECK(fails_with("[cluster]\nname = a\n[node n1]\naddress = "
	    "10.0.0.1\n", "[cluster]: node: missing (required)"));
	CHECK(fails_with(BASE "heartbeat = 1s\n", "t.conf:11: [node w] "
	    "heartbeat: unknown key"));
	CHECK(fails_with("[cluster]\nname = a\nnode = n1\nheartbeat = 600ms\n"
	    "[node n1]\naddress = 10.0.0.1\n", "t.conf:1: [cluster] lease: "
	    "lease (1000ms) must be at least twice the heartbeat (600ms)"));
	CHECK(fails_with(BASE "[node n4]\naddress = 10.0.0.12\n", "[node n4] "
	    "address: same address and port as [node n2]"));
	CHECK(fails_with(BASE "[check c]\ntype = tcp\n", "[check c] target: "
	    "type = tcp needs target = HOST:PORT"));
	CHECK(fails_with(BASE "[check c]\ntype = tcp\ntarget = x\n",
	    "t.conf:13: [check c] target: 'x': not HOST:PORT"));
	CHECK(fails_with(BASE "[check c]\ntype = command\n", "[check c] "
	    "command: type = command needs command"));
	CHECK(fails_with(BASE "[check c]\ntype = postgres\n", "[check c] type: "
	    "type = postgres needs a [postgres] section"));
	CHECK(fails_with(BASE "[check c]\ntype = http\ntarget = "
	    "https://x/\n", "type = http needs target = http://"));
	CHECK(fails_with(BASE "two_node = yes\n", "unknown key"));
	CHECK(fails_with("[cluster]\nname = a\nnode = n1\ntwo_node = yes\n"
	    "[node n1]\naddress = 10.0.0.1\n[node n2]\naddress = 10.0.0.2\n",
	    "two_node = yes needs a tiebreaker"));
	/* Two members without a witness: valid, with a warning. */
	cfg = parse("[cluster]\nname = a\nnode = n1\n[node n1]\naddress = "
	    "10.0.0.1\n[node n2]\naddress = 10.0.0.2\n", &n);
	CHECK(cfg != NULL && logged("[WARNING] t.conf: two members and no "
	    "witness: no automatic failover"));
	ha_cfg_free(cfg);
	t_clear_log();
	cfg = parse("[cluster]\nname = a\nnode = n1\ntwo_node = yes\n"
	    "tiebreaker = 10.0.0.254\n[node n1]\naddress = 10.0.0.1\n"
	    "[node n2]\naddress = 10.0.0.2\n", &n);
	CHECK(cfg != NULL && !logged("[WARNING]"));
	ha_cfg_free(cfg);
}

TEST(environment)
{
	char *env[] = {
		"HABOX_CLUSTER_NODE=n2",
		"HABOX_NODE_N2_PRIORITY=7",
		CONFIG_HAPROM ? "HABOX_POSTGRES_DATA_DIR=/pg" : "HABOX_X=1",
		"HABOX_CLUSTR_NODE=typo",
		"HABOX_NODE_NOPE_ADDRESS=10.9.9.9",
		"PATH=/bin",
		"HABOX_CACHE=/elsewhere",
		NULL
	};
	size_t n;
	struct ha_cfg *cfg = parse_env(BASE, env, NULL, 0, &n);

	CHECK(cfg != NULL);
	if (cfg == NULL)
		return;
	CHECK(strcmp(cfg->cluster->node, "n2") == 0);
	CHECK(cfg->self == &cfg->nodes[1]);
	CHECK(cfg->nodes[1].priority == 7);
	/* [postgres] came from the environment alone */
	if (CONFIG_HAPROM)
		CHECK(cfg->postgres &&
		    strcmp(cfg->postgres->data_dir, "/pg") == 0);
	CHECK(logged("[WARNING] t.conf: environment HABOX_NODE_NOPE_ADDRESS "
	    "matches no configured section and key: ignored"));
	CHECK(!logged("HABOX_CLUSTR_NODE"));
	CHECK(!logged("HABOX_CACHE"));
	ha_cfg_free(cfg);
	t_clear_log();
	{
		char *bad[] = { "HABOX_CLUSTER_PORT=seventy", NULL };

		cfg = parse_env(BASE, bad, NULL, 0, &n);
		CHECK(cfg == NULL && logged("environment HABOX_CLUSTER_PORT: "
		    "[cluster] port: 'seventy': not a whole number"));
	}
}

TEST(overrides)
{
	char *env[] = { "HABOX_CLUSTER_PORT=8000", "HABOX_CLUSTER_LEASE=3s",
	    NULL };
	const char *ov[] = {
		"cluster.port=9000",
		"node.n3.address=10.0.0.14",
		"sync.ca.path=/etc/ca",
		"sync.ca.exclude=*.a *.b",
	};
	size_t n;
	struct ha_cfg *cfg = parse_env(BASE "[sync ca]\npath = /x\n"
	    "exclude = *.old\nexclude = *.older\n", env, ov, 4, &n);

	CHECK(cfg != NULL);
	if (cfg == NULL)
		return;
	/* -o over the environment over the file */
	CHECK(cfg->cluster->port == 9000);
	CHECK(cfg->cluster->lease_ms == 3000);
	CHECK(cfg->n_nodes == 4 && ha_cfg_node(cfg, "n3") != NULL);
	CHECK(strcmp(cfg->syncs[0].path, "/etc/ca") == 0);
	CHECK(cfg->syncs[0].exclude.n == 2 &&
	    strcmp(cfg->syncs[0].exclude.v[0], "*.a") == 0);
	ha_cfg_free(cfg);
	{
		const char *bad[] = { "cluster.nope=1", "nosuch.x=1", "cluster=1",
		    "node.port=1", "cluster.port=0" };

		cfg = parse_env(BASE, NULL, bad, 5, &n);
		CHECK(cfg == NULL && n == 5);
		CHECK(logged("-o cluster.nope=1: [cluster] has no key 'nope'"));
		CHECK(logged("-o nosuch.x=1: unknown section 'nosuch'"));
		CHECK(logged("-o cluster=1: expected SECTION.KEY=VALUE"));
		CHECK(logged("-o node.port=1: expected KIND.NAME.KEY=VALUE"));
		CHECK(logged("-o cluster.port: [cluster] port: '0': out of "
		    "range"));
	}
}

TEST(output_and_masking)
{
	const char *ov[] = { "cluster.lease=2s" };
	char *env[] = { "HABOX_CLUSTER_HEARTBEAT=200ms", NULL };
	struct ha_buf out = { 0 };
	size_t n;
	struct ha_cfg *cfg = parse_env(BASE "[postgres]\ndata_dir = /d\n"
	    "conninfo = host=/run/postgresql password=s3cret user=x\n",
	    env, ov, 1, &n);

	if (!CONFIG_HAPROM) {
		/* No conninfo can be configured at all: refused. */
		CHECK(cfg == NULL && logged("CONFIG_HAPROM=n"));
		return;
	}
	CHECK(cfg != NULL);
	if (cfg == NULL)
		return;
	ha_cfg_format(cfg, &out);
	CHECK(strstr(out.s, "[node w]\naddress = 10.0.0.13\n"));
	CHECK(strstr(out.s, "role = witness\n"));
	CHECK(strstr(out.s, "lease = 2s") && strstr(out.s,
	    "; from -o cluster.lease\n"));
	CHECK(strstr(out.s, "heartbeat = 200ms") && strstr(out.s,
	    "; from HABOX_CLUSTER_HEARTBEAT"));
	CHECK(strstr(out.s, "port = 7405") && strstr(out.s, "; default"));
	CHECK(strstr(out.s, "conninfo = host=/run/postgresql password=********"
	    " user=x\n"));
	CHECK(strstr(out.s, "s3cret") == NULL);
	ha_buf_free(&out);
	ha_cfg_free(cfg);
	cfg = parse(BASE "[postgres]\ndata_dir = /d\nconninfo = "
	    "postgresql://u:pw@h/db\n", &n);
	CHECK(cfg != NULL);
	if (cfg) {
		ha_cfg_format(cfg, &out);
		CHECK(strstr(out.s, "postgresql://u:********@h/db"));
		CHECK(strstr(out.s, "pw@") == NULL);
		ha_buf_free(&out);
	}
	ha_cfg_free(cfg);
}

TEST(load_files)
{
	char dir[] = "/tmp/habox-cfgtest.XXXXXX", path[128];
	struct ha_cfg *cfg;
	int fd;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/none.conf", dir);
	CHECK(ha_cfg_load(path, NULL, 0) == NULL);
	CHECK(logged("cannot read config file") && logged("No such file"));
	CHECK(ha_cfg_load(dir, NULL, 0) == NULL);
	CHECK(logged("is a directory"));
	snprintf(path, sizeof(path), "%s/big.conf", dir);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	CHECK(fd >= 0 && ftruncate(fd, 2 * 1024 * 1024) == 0);
	close(fd);
	CHECK(ha_cfg_load(path, NULL, 0) == NULL);
	CHECK(logged("larger than 1024 KiB"));
	unlink(path);
	snprintf(path, sizeof(path), "%s/ok.conf", dir);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	CHECK(fd >= 0 && write(fd, BASE, strlen(BASE)) == (ssize_t)strlen(BASE));
	close(fd);
	cfg = ha_cfg_load(path, NULL, 0);
	CHECK(cfg != NULL && strcmp(cfg->path, path) == 0);
	ha_cfg_free(cfg);
	unlink(path);
	rmdir(dir);
}

int
main(void)
{
	t_suite = "config";
	RUN(valid_full);
	RUN(postgres_section);
	RUN(syntax_forgiveness);
	RUN(errors_name_file_line_key);
	RUN(bad_bytes);
	RUN(utf8_accepted);
	RUN(long_line);
	RUN(all_errors_in_one_run);
	RUN(cross_checks);
	RUN(environment);
	RUN(overrides);
	RUN(output_and_masking);
	RUN(load_files);
	return t_done();
}
