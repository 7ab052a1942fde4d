/*
 * kernel_msg.c - the kernel's operator log lines and check texts (plugin
 * loading, stores, reload, logins, Lua quarantine) in 简体中文.
 *
 * Keys are the English format strings exactly as the code writes them
 * (gettext style); the Chinese keeps every printf conversion in order
 * (tests/unit/test_msg.c checks it). Registered with xz_text_register.
 */
#include "util/msg.h"

const xz_tr xz_kernel_zh[] = {
	{ "cannot create the kernel: %s", "无法创建内核：%s" },
	{ "plugin '%s' requires '%s', which is not in this deployment (or is "
	  "disabled)",
	    "插件 '%s' 依赖 '%s'，但本部署中没有它（或已停用）" },
	{ "plugin '%s' is part of a requires cycle",
	    "插件 '%s' 处于循环依赖中" },
	{ "cannot start threads", "无法启动线程" },
	{ "not started: a plugin it requires failed",
	    "未启动：它依赖的插件失败了" },
	{ "init failed: %s; the plugin is disabled",
	    "初始化失败：%s；该插件已停用" },
	{ "start failed: %s; the plugin is disabled",
	    "启动失败：%s；该插件已停用" },
	{ "node '%s' running: %zu plugins, control %s",
	    "节点 '%s' 运行中：%zu 个插件，控制入口 %s" },
	{ "SIGHUP: cannot reopen the log file: %s (still writing to the old "
	  "one)",
	    "SIGHUP：无法重新打开日志文件：%s（仍写入旧文件）" },
	{ "SIGHUP: log reopened; reloading the Lua plugins and scripts",
	    "SIGHUP：日志已重新打开；正在重新加载 Lua 插件和脚本" },
	{ "stopping: draining the bus", "正在停止：排空消息总线" },
	{ "drain not done after node.drain_timeout_ms (%u ms): stopping with "
	  "%zu message(s) still queued; events on durable topics are "
	  "delivered again at the next start, the others are dropped",
	    "排空在 node.drain_timeout_ms（%u 毫秒）后仍未完成：停止时仍有 "
	    "%zu "
	    "条消息排队；持久主题上的事件在下次启动时重新投递，其余丢弃" },
	{ "stopped", "已停止" },
	{ "plugin '%s': built for SDK ABI %u.%u, this host has ABI %u.%u "
	  "(major versions differ): rebuild it",
	    "插件 '%s'：按 SDK ABI %u.%u 构建，本主机的 ABI 为 "
	    "%u.%u（主版本不同）：请重新构建" },
	{ "plugin '%s': built for SDK ABI %u.%u, newer than this host's ABI "
	  "%u.%u: upgrade xiezhi",
	    "插件 '%s'：按 SDK ABI %u.%u 构建，比本主机的 ABI %u.%u "
	    "新：请升级 xiezhi" },
	{ "plugin '%s': descriptor is %u bytes, expected at least %zu",
	    "插件 '%s'：描述符为 %u 字节，至少应为 %zu 字节" },
	{ "plugin '%s': descriptor has no %s", "插件 '%s'：描述符缺少 %s" },
	{ "plugin '%s': missing mandatory callback %s",
	    "插件 '%s'：缺少必需的回调 %s" },
	{ "plugin '%s': out of memory", "插件 '%s'：内存不足" },
	{ "plugin '%s': cannot reserve '%s'", "插件 '%s'：无法预留 '%s'" },
	{ "plugin '%s': this program has no Lua host",
	    "插件 '%s'：本程序没有 Lua 宿主" },
	/* a Lua plugin's handlers table (lua/luahost.c) */
	{ "handlers['%s'] must be a function or a table { fn = function, "
	  "durable = boolean }, got %s",
	    "handlers['%s'] 应为函数或表 { fn = 函数, durable = 布尔值 "
	    "}，实为 %s" },
	{ "handlers['%s']: unknown field '%s' (fields: fn, durable)",
	    "handlers['%s']：未知字段 '%s'（可用字段：fn、durable）" },
	{ "handlers['%s']: field 'durable' must be a boolean, got %s",
	    "handlers['%s']：字段 'durable' 应为布尔值，实为 %s" },
	{ "handlers['%s']: field 'fn' must be a function, got %s",
	    "handlers['%s']：字段 'fn' 应为函数，实为 %s" },
	{ "plugin '%s': shared object not found (%s)",
	    "插件 '%s'：找不到共享库（%s）" },
	{ "plugin '%s': cannot load: %s", "插件 '%s'：无法加载：%s" },
	{ "plugin '%s': %s exports no xz_plugin_entry symbol (is it built "
	  "with XZ_EXPORT?)",
	    "插件 '%s'：%s 没有导出 xz_plugin_entry 符号（是否用 XZ_EXPORT "
	    "构建？）" },
	{ "plugin '%s': xz_plugin_entry returned no descriptor",
	    "插件 '%s'：xz_plugin_entry 没有返回描述符" },
	{ "plugin '%s': node already started", "插件 '%s'：节点已经启动" },
	{ "plugin '%s': name already in use", "插件 '%s'：名称已被占用" },
	{ "cannot create data_dir %s: %s", "无法创建 data_dir %s：%s" },
	{ "cannot open %s: %s", "无法打开 %s：%s" },
	{ "data folder %s is in use by another node (pid %s holds %s): stop "
	  "it first, or give this node its own data_dir",
	    "数据文件夹 %s 正被另一个节点使用（进程 %s 持有 "
	    "%s）：请先停止它，或为本节点另设 data_dir" },
	{ "cannot write the pid into %s", "无法把进程号写入 %s" },
	{ "store: cannot write %s/MANIFEST: %s",
	    "存储：无法写入 %s/MANIFEST：%s" },
	{ "store: generation: %s", "存储：代数：%s" },
	{ "store: no data_dir", "存储：没有 data_dir" },
	{ "store: cannot create data_dir %s: %s",
	    "存储：无法创建 data_dir %s：%s" },
	{ "store: %s is missing but %s/MANIFEST lists it; not making an empty "
	  "one",
	    "存储：%s 不存在，但 %s/MANIFEST 中列有它；不会新建空库" },
	{ "store: cannot open %s: %s", "存储：无法打开 %s：%s" },
	{ "store: cannot open %s to checkpoint it in the background: %s (its "
	  "plugin's thread checkpoints it)",
	    "存储：无法打开 %s "
	    "以在后台做检查点：%s（由其插件的线程做检查点）" },
	{ "store %s of plugin '%s' is missing (the manifest lists it: "
	  "identity %s, generation %lld): restore it from a backup "
	  "(docs/operations.md), or accept the loss on record with the node "
	  "running: xiezhi audit reset --store %s --reason TEXT",
	    "存储 %s（插件 '%s'）不存在（清单中有它：标识 %s，代数 "
	    "%lld）：请从备份恢复（docs/"
	    "operations.md），或在节点运行时有记录地"
	    "确认该损失：xiezhi audit reset --store %s --reason TEXT" },
	{ "store %s of plugin '%s' cannot be opened: %s",
	    "存储 %s（插件 '%s'）无法打开：%s" },
	{ "store %s of plugin '%s' is damaged (PRAGMA quick_check: %s): "
	  "restore it from a backup",
	    "存储 %s（插件 '%s'）已损坏（PRAGMA "
	    "quick_check：%s）：请从备份恢复" },
	{ "store %s of plugin '%s' was replaced: its identity is %s, the "
	  "manifest says %s: restore the right file, or delete its line from "
	  "%s/MANIFEST to adopt this one",
	    "存储 %s（插件 '%s'）已被替换：其标识为 %s，清单记载为 "
	    "%s：请恢复正确的文件，或从 %s/MANIFEST 删除该行以采用当前文件" },
	{ "store %s of plugin '%s' was rolled back: it is at generation %lld, "
	  "the manifest says %lld (an older copy was put back): restore the "
	  "latest backup, or delete its line from %s/MANIFEST to accept the "
	  "loss",
	    "存储 %s（插件 '%s'）已回退：其代数为 %lld，清单记载为 "
	    "%lld（放回了旧副本）：请恢复最新备份，或从 %s/MANIFEST "
	    "删除该行以接受数据损失" },
	{ "log level %s -> %s (asked by %s)",
	    "日志级别 %s -> %s（由 %s 要求）" },
	{ "reload: %zu reloaded, %zu failed",
	    "重新加载：%zu 个成功，%zu 个失败" },
	{ "reloaded", "已重新加载" },
	{ "reload failed, the running version stays: %s",
	    "重新加载失败，继续运行原版本：%s" },
	{ "cannot reload '%s': %s", "无法重新加载 '%s'：%s" },
	{ "%s: '%s' may not do this: it needs the role admin",
	    "%s：'%s' 无权执行此操作：需要 admin 角色" },
	{ "login: %s (%s) from %s, %s", "登录：%s（%s），来自 %s，%s" },
	{ "login refused: '%s' from %s: %s", "拒绝登录：'%s'，来自 %s：%s" },
	{ "auth.demo_users: making %zu demo users (one per role)",
	    "auth.demo_users：正在创建 %zu 个演示用户（每个角色一个）" },
	{ "demo users: stopping before they were made",
	    "演示用户：在创建完成前停止" },
	{ "demo users: cannot hash a password", "演示用户：无法计算口令散列" },
	{ "demo users: cannot write %s: %s", "演示用户：无法写入 %s：%s" },
	{ "demo users: cannot write %s", "演示用户：无法写入 %s" },
	{ "demo users: %zu made; their passwords are in %s (mode 0600, "
	  "written once)",
	    "演示用户：已创建 %zu 个；口令在 %s 中（权限 0600，只写一次）" },
	{ "cannot make the node CA: %s", "无法生成节点 CA：%s" },
	{ "cannot issue the node's certificate: %s", "无法签发节点证书：%s" },
	{ "node CA made: %s/ca.pem (key ca.key, mode 0600); the node's "
	  "certificate: %s/%s.pem",
	    "节点 CA 已生成：%s/ca.pem（私钥 ca.key，权限 "
	    "0600）；节点证书：%s/%s.pem" },
	{ "cannot create %s: %s; logins are unavailable",
	    "无法创建 %s：%s；登录不可用" },
	{ "identity store: %s; logins are unavailable",
	    "身份库：%s；登录不可用" },
	{ "%s '%s' quarantined (subscriptions and timers removed): %s",
	    "%s '%s' 已被隔离（订阅和定时器已移除）：%s" },
	{ "hit its limits %u times in a row; last: %.*s",
	    "连续 %u 次触及资源限制；最近一次：%.*s" },
	{ "error in %s: %s", "%s 出错：%s" },
	{ "plugin", "插件" },
	{ "script", "脚本" },
	{ "store %s of plugin '%s': %s", "存储 %s（插件 '%s'）：%s" },
	/* a connection's refusal (link/link.c) and identity administration
	 * (sys_auth.c): the code stays `forbidden` */
	{ "forbidden: '%s' (roles: %s) has no %s permission for '%s'",
	    "禁止：'%s'（角色：%s）没有%s '%s' 的权限" },
	{ "none", "无" },
	{ "publish", "发布" },
	{ "subscribe", "订阅" },
	{ "%s needs the role admin; %s has none of it",
	    "%s 需要 admin 角色；%s 没有该角色" },
	{ "the caller", "调用者" },
	/* the header of demo-passwords.txt (sys_auth.c) */
	{ "# Demo users of node '%s' (auth.demo_users = true), one per role.\n"
	  "# Written once, at the first start; keep it private. Log in with:\n"
	  "#   ./build/xiezhi login --user duty1 --password-file FILE\n"
	  "# user\tpassword\trole\tagency\tname\n",
	    "# 节点 '%s' 的演示用户（auth.demo_users = "
	    "true），每个角色一个。\n"
	    "# 仅在首次启动时写入一次；请妥善保管。登录方法：\n"
	    "#   ./build/xiezhi login --user duty1 --password-file 文件\n"
	    "# 用户\t口令\t角色\t机构\t姓名\n" },
	/* bus, scheduler and link lines (xz_log looks their format up) */
	{ "out of memory replying to '%s': the requester gets a timeout",
	    "应答 '%s' 时内存不足：请求方将超时" },
	{ "durable log: a batch of %s was not written: %s",
	    "持久日志：一批 %s 未能写入：%s" },
	{ "the kernel's audit records cannot go into the audit plugin: %.*s; "
	  "%zu kept in %s, tried again with backoff (up to 10 s)",
	    "内核的审计记录无法写入审计插件：%.*s；%zu 条保留在 %s 中，"
	    "将退避重试（最长 10 秒）" },
	{ "the kernel's audit records cannot go into the audit plugin: no "
	  "audit plugin takes audit.append now; %zu kept in %s, tried again "
	  "with backoff (up to 10 s)",
	    "内核的审计记录无法写入审计插件：当前没有审计插件接收 "
	    "audit.append；%zu 条保留在 %s 中，将退避重试（最长 10 秒）" },
	{ "the kernel's audit records go into the audit plugin again (after "
	  "%llu failed attempt(s))",
	    "内核的审计记录已恢复写入审计插件（此前失败 %llu 次）" },
	{ "stopping: %zu request(s) the plugins still waited for answered "
	  "unavailable",
	    "正在停止：插件仍在等待的 %zu 个请求已答复 "
	    "unavailable（不可用）" },
	{ "durable log: %zu unacknowledged event(s) of %s delivered again",
	    "持久日志：%zu 个未确认的 %s 事件已重新投递" },
	{ "timer %llu could not be handed over (out of memory); retrying",
	    "计时器 %llu 未能移交（内存不足）；正在重试" },
	{ "%zu messages to %s not sent: %s",
	    "%zu 条发往 %s 的消息未发送：%s" },
	{ "%s disconnected: %s", "%s 已断开：%s" },
	{ "%s stopped taking connections (a client left during the "
	  "handshake; nng 1.5.2): closing it, with its connections, and "
	  "listening again",
	    "%s 已不再接受连接（有客户端在握手中途离开；nng "
	    "1.5.2）：正在关闭它及经由它的连接，并重新监听" },
	{ "%s is listening again", "%s 已重新监听" },
	{ "%s: the door watch cannot dial it to check it still takes "
	  "connections; it tries again every 5 s",
	    "%s：入口监视无法拨号连接它以检查其是否仍接受连接；每 5 秒重试" },
	{ "%s (trying again in a second)", "%s（一秒后重试）" },
	{ "%s: the listener took the probe", "%s：监听器已接受探测连接" },
	{ "%s: nothing of the probe reached the listener",
	    "%s：探测连接未到达监听器" },
	{ "%s: accept errors %llu -> %llu: probing it",
	    "%s：接受错误 %llu -> %llu：正在探测" },
	{ "%s refused: unauthenticated: %s",
	    "已拒绝 %s：unauthenticated：%s" },
	{ "%s: subscription '%s' of '%s' dropped: the reloaded permissions "
	  "forbid it",
	    "%s：订阅 '%s'（属于 '%s'）已撤销：重新加载的权限不允许" },
	{ "permissions reloaded, but out of memory listing the subscriptions: "
	  "some were not checked",
	    "权限已重新加载，但列出订阅时内存不足：部分订阅未经检查" },
	{ "%s is %s (%s)", "%s 的身份为 %s（%s）" },
	{ "rejected a message from pipe %u: %s",
	    "已拒绝来自管道 %u 的消息：%s" },
	/* kernel */
	{ "forbidden: plugin '%s' has no %s grant for '%s'",
	    "forbidden：插件 '%s' 没有 %s 授权，不能访问 '%s'" },
	{ "forbidden: '%s' (via %s) has no %s permission for '%s'",
	    "forbidden：'%s'（经由 %s）没有 %s 权限，不能访问 '%s'" },
	{ "isolation: no memory for a frame to the child",
	    "进程隔离：没有内存为子进程生成消息帧" },
	{ "isolated: child pid %ld running",
	    "进程隔离：子进程 pid %ld 运行中" },
	{ "isolated: child pid %ld %s", "进程隔离：子进程 pid %ld %s" },
	{ "isolated: child pid %ld %s (%s); %zu request(s) in flight answered "
	  "unavailable; restart in %llu ms",
	    "进程隔离：子进程 pid %ld %s（%s）；%zu 个进行中的请求已答复 "
	    "unavailable；%llu 毫秒后重启" },
	{ "isolated: child pid %ld: %s%s%s%s; %zu request(s) in flight "
	  "answered unavailable; restart in %llu ms",
	    "进程隔离：子进程 pid %ld：%s%s%s%s；%zu 个进行中的请求已答复 "
	    "unavailable；%llu 毫秒后重启" },
	{ "restarted", "已重启" },
	{ " during start", "（启动期间）" },
	{ "lost (%s)", "已丢失（%s）" },
	{ "killed by signal %d (%s)", "被信号 %d 终止（%s）" },
	{ "exited with status %d", "以状态 %d 退出" },
	{ "ended (wait status %d)", "已结束（等待状态 %d）" },
	{ "isolated: cannot start the child: %s",
	    "进程隔离：无法启动子进程：%s" },
	{ "isolated: the first start failed (%s); restarting with backoff, "
	  "requests answered unavailable meanwhile",
	    "进程隔离：首次启动失败（%s）；正在退避重启，其间请求答复 "
	    "unavailable" },
	{ "a handler has run over handler_timeout_ms (%u ms): %llu message(s) "
	  "wait; the plugin runs in the node, so it holds a worker (isolation "
	  "= \"process\" would restart it)",
	    "有处理函数运行超过 handler_timeout_ms（%u 毫秒）：%llu "
	    "条消息在等待；该插件在节点进程内运行，因此占住一个工作线程（isola"
	    "tion "
	    "= \"process\" 时会重启它）" },
	{ "cannot start the handler watch: long handlers go unreported",
	    "无法启动处理函数监视：超时的处理函数将不会被报告" },
	{ "cannot supervise a child: %s; the plugin is disabled",
	    "无法监管子进程：%s；该插件已停用" },
	{ "link '%s': forbidden: node '%s' (agency %s) has no %s permission "
	  "for "
	  "'%s'",
	    "链路 '%s'：forbidden：节点 '%s'（机构 %s）没有 %s 权限，不能访问 "
	    "'%s'" },
	{ "link '%s' is up (%s)%s", "链路 '%s' 已连通（%s）%s" },
	{ "it dialed us", "由对方发起连接" },
	{ ": sending what was kept for it", "：正在发送为其保留的消息" },
	{ "link '%s' is down: %s", "链路 '%s' 已断开：%s" },
	{ "%s (%s, certificate '%s') disconnected on %s: its certificate "
	  "no longer passes: %s",
	    "%s（%s，证书 '%s'）在%s时被断开：其证书已不再有效：%s" },
	{ "certificates of %zu connections checked again (%s): %zu no longer "
	  "pass",
	    "已重新检查 %zu 个连接的证书（%s）：%zu 个不再有效" },
	{ "a reload", "重新加载" },
	{ "a change of the CA or CRL file", "CA 或 CRL 文件变更" },
	{ "link '%s': node '%s' disconnected: its certificate '%s' no longer "
	  "passes this node's CA and CRL: %s%s",
	    "链路 '%s'：节点 '%s' 已被断开：其证书 '%s' "
	    "已不再通过本节点的 CA 和 CRL 检查：%s%s" },
	{ " (the link was not up)", "（该链路当时未连通）" },
	{ "%s: the CA file %s changed: connecting again so the TLS handshake "
	  "checks the node's certificate against it",
	    "%s：CA 文件 %s 已变更：重新连接，以便 TLS "
	    "握手按新文件检查对方节点的证书" },
	{ "link '%s': %s is not \"EPOCH DONE\": ignored (events of the "
	  "other node may be delivered twice)",
	    "链路 '%s'：%s 不是 \"EPOCH "
	    "DONE\"，已忽略（对方节点的事件可能被重复投递）" },
	{ "link '%s': cannot write %s: %s (after a restart, events of the "
	  "other node may be delivered twice)",
	    "链路 '%s'：无法写入 "
	    "%s：%s（重启后，对方节点的事件可能被重复投递）" },
	{ "link '%s': %s written again", "链路 '%s'：%s 已恢复写入" },
	{ "link '%s': the two nodes disagree on bus.best_effort: here %s, on "
	  "node '%s' %s; a topic best-effort on one side and not on the other "
	  "is dropped under load on one side and held back on the other: give "
	  "both nodes the same list",
	    "链路 '%s'：两个节点的 bus.best_effort 不一致：本节点为 %s，节点 "
	    "'%s' 为 %s；一方按尽力而为、另一方按业务处理的主题，在负载高时"
	    "会在一方被丢弃、在另一方被积压：请为两个节点配置相同的列表" },
	{ "link '%s': %s; retry %llu in %llu ms",
	    "链路 '%s'：%s；第 %llu 次重试在 %llu 毫秒后" },
	{ "reload: %s", "重新加载：%s" },
	{ "reload: the config has errors; the permissions in force stay as "
	  "they "
	  "were",
	    "重新加载：配置有错误；现行权限保持不变" },
	{ "reload: permissions in force: %zu roles from %s; %zu subscriptions "
	  "dropped",
	    "重新加载：现行权限：%zu 个角色，来自 %s；撤销了 %zu 个订阅" },
	{ "store: %s/%s.db has the identity %s, %s/MANIFEST lists %s: not "
	  "adopted (restore the right file, or delete its line from the "
	  "MANIFEST)",
	    "存储：%s/%s.db 的标识为 %s，而 %s/MANIFEST 登记的是 "
	    "%s：未采用（请恢复"
	    "正确的文件，或从 MANIFEST 中删除其条目）" },
	{ "store: %s: %s", "存储：%s：%s" },
	{ "%s %s (by %s)", "%s %s（操作人 %s）" },
	{ "user added:", "已添加用户：" },
	{ "password set:", "已设置口令：" },
	{ "user %s %s (by %s)", "用户 %s %s（操作人 %s）" },
	{ "locked", "已锁定" },
	{ "unlocked", "已解锁" },
	{ "demo user %s: %s", "演示用户 %s：%s" },
	{ "not started: %s", "未启动：%s" },
	{ "expected {\"store\": NAME, \"reason\": TEXT}",
	    "应为 {\"store\": NAME, \"reason\": TEXT}" },
	{ "a reset needs a reason (--reason TEXT): it goes into the audit "
	  "record",
	    "重置需要给出原因（--reason TEXT）：原因记入审计记录" },
	{ "this node keeps no data folder (node.data_dir): no store to reset",
	    "本节点没有数据目录（node.data_dir）：没有可重置的存储" },
	{ "unknown store '%s': the data folder's MANIFEST does not list it",
	    "未知存储 '%s'：数据目录的 MANIFEST 中没有登记它" },
	{ "plugin '%s' runs on its store: a reset accepts a store that was "
	  "lost (the node holds its plugin at start)",
	    "插件 '%s' 正在使用其存储：重置只用于确认已丢失的存储（节点启动时"
	    "会暂停其插件）" },
	{ "nothing is reset: the reset's audit record cannot be written",
	    "未重置任何存储：重置的审计记录无法写入" },
	{ "the MANIFEST cannot be written: the store is still listed (see the "
	  "node log)",
	    "MANIFEST 无法写入：该存储仍在登记中（见节点日志）" },
	{ "store '%s' (identity %s, generation %lld) reset by %s: %s; its "
	  "plugin starts with an empty store at the next start",
	    "存储 '%s'（标识 %s，代次 %lld）已由 %s 重置：%s；下次启动时其插件"
	    "以空存储启动" },
	{ "node.socket_owner/socket_group: cannot give the socket %s to uid "
	  "%lld, gid %lld: %s",
	    "node.socket_owner/socket_group：无法将套接字 %s 交给 uid "
	    "%lld、gid "
	    "%lld：%s" },
	{ "node.socket_mode: cannot set the mode of the socket %s to %04o: %s",
	    "node.socket_mode：无法将套接字 %s 的权限设为 %04o：%s" },
	{ NULL, NULL },
};
