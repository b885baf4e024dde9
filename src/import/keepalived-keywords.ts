/**
 * The keywords keepalived knows and how each reads its lines, per major version, as its parsers install them
 * (install_keyword_root / install_keyword / install_sublevel in 1.3.5 and in every 2.x release: core/global_parser.c,
 * vrrp/vrrp_parser.c, check/check_*.c, bfd/bfd_parser.c, trackers/track_file.c). keepalived reads a configuration
 * by context: each block has its own table, so one word is a block in one place and a plain keyword in another
 * (`track_file NAME { ... }` at the top level, `track_file { NAME weight N }` in a vrrp_instance, `track_file NAME`
 * in a FILE_CHECK). A keyword keepalived does not know where it stands is logged ("Unknown keyword") and ignored.
 *
 * The tables below are written in a small notation: words separated by blanks; `name{ ... }` opens the block of
 * keywords it reads (a sub-level); `name[]` reads the lines of its `{ }` block as values (alloc_value_block);
 * in 1.x `name[w]` reads words up to a `}` anywhere (read_value_block); `@2.1.0` is the first 2.x release that knows
 * the keyword (2.0.0 when absent: no 2.x release dropped one).
 */
import { versionAtLeast } from '../keepalived.js';

export interface KeywordSpec {
  /** the block of keywords it opens (null: none) */
  block: KeywordTable | null;
  /** its handler reads the lines of a `{ }` block as values: alloc_value_block (`lines`), 1.x read_value_block */
  values: 'lines' | 'words' | null;
  /** the first 2.x release that knows it */
  since: string | null;
}

export interface KeywordTable {
  /** the keyword that opens it ('' for the top level) */
  name: string;
  keywords: Map<string, KeywordSpec>;
}

/** install_checker_common_keywords(): every checker's (MISC_CHECK's: without the connection keywords) */
const CONNECT = 'connect_ip connect_port bindto bind_port bind_if connect_timeout fwmark';
const COMMON = 'retry delay_before_retry warmup delay_loop alpha log_all_failures@2.0.11';
/** install_http_ssl_check_keyword(): HTTP_GET and SSL_GET */
const HTTP = `${CONNECT} ${COMMON} nb_get_retry virtualhost http_protocol@2.0.17 enable_sni fast_recovery@2.0.17
  tls_compliant@2.2.8 url{ path digest status_code virtualhost regex@2.0.7 regex_no_match@2.0.7 regex_options@2.0.7
  regex_min_offset@2.0.7 regex_max_offset@2.0.7 regex_stack@2.0.7 tls_compliant@2.2.8 }`;

/** keepalived 2.x (every release to 2.4.3) */
const V2 = `
linkbeat_use_polling net_namespace net_namespace_ipvs@2.1.0 namespace_with_ipsets use_pid_dir instance
child_wait_time
global_defs{
  process_names@2.0.16 process_name@2.0.16 vrrp_process_name@2.0.16 checker_process_name@2.2.0
  lvs_process_name@2.0.16 bfd_process_name@2.0.16 use_symlink_paths@2.3.0 router_id notification_email_from
  smtp_server smtp_helo_name smtp_connect_timeout notification_email[] smtp_alert startup_script@2.1.0
  startup_script_timeout@2.1.0 shutdown_script@2.1.0 shutdown_script_timeout@2.1.0 max_auto_priority@2.1.0
  min_auto_priority_delay@2.1.0 smtp_alert_vrrp smtp_alert_checker checker_log_all_failures@2.0.11
  dynamic_interfaces no_email_faults default_interface disable_local_igmp@2.2.0 v3_checksum_as_v2@2.2.8
  lvs_timeouts lvs_flush lvs_flush_on_stop@2.2.0 lvs_flush_onstop@2.0.15 lvs_sync_daemon vrrp_mcast_group4
  vrrp_mcast_group6 vrrp_garp_master_delay vrrp_garp_master_repeat vrrp_garp_master_refresh
  vrrp_garp_master_refresh_repeat vrrp_garp_lower_prio_delay vrrp_garp_lower_prio_repeat
  vrrp_down_timer_adverts@2.2.3 vrrp_garp_interval vrrp_gna_interval vrrp_min_garp@2.0.12
  vrrp_garp_extra_if@2.2.3 vrrp_vmac_garp_intvl@2.2.0 vrrp_lower_prio_no_advert vrrp_higher_prio_send_advert
  vrrp_version vrrp_iptables vrrp_ipsets nftables@2.0.11 nftables_priority@2.0.11 nftables_ifindex@2.0.11
  vrrp_check_unicast_src vrrp_skip_check_adv_addr vrrp_strict vrrp_priority vrrp_no_swap vrrp_rt_priority
  vrrp_cpu_affinity@2.0.17 vrrp_rlimit_rttime@2.1.0 vrrp_rlimit_rtime nftables_ipvs@2.2.2
  nftables_ipvs_priority@2.2.2 nftables_ipvs_start_fwmark@2.2.2 nftables_counters@2.0.11 notify_fifo
  notify_fifo_script vrrp_notify_fifo vrrp_notify_fifo_script vrrp_notify_priority_changes@2.0.16
  fifo_write_vrrp_states_on_reload@2.2.5 lvs_notify_fifo lvs_notify_fifo_script checker_priority
  checker_no_swap checker_rt_priority checker_cpu_affinity@2.0.17 checker_rlimit_rttime@2.1.0
  checker_rlimit_rtime bfd_priority bfd_no_swap bfd_rt_priority bfd_cpu_affinity@2.0.17
  bfd_rlimit_rttime@2.1.0 bfd_rlimit_rtime snmp_socket enable_traps enable_snmp_vrrp enable_snmp_keepalived
  enable_snmp_rfc enable_snmp_rfcv2 enable_snmp_rfcv3 enable_snmp_checker snmp_vs_stats_update_interval@2.3.0
  snmp_rs_stats_update_interval@2.3.0 enable_dbus dbus_service_name dbus_no_interface_name@2.3.0 script_user
  enable_script_security vrrp_netlink_cmd_rcv_bufs vrrp_netlink_cmd_rcv_bufs_force
  vrrp_netlink_monitor_rcv_bufs vrrp_netlink_monitor_rcv_bufs_force process_monitor_rcv_bufs@2.0.11
  process_monitor_rcv_bufs_force@2.0.11 lvs_netlink_cmd_rcv_bufs lvs_netlink_cmd_rcv_bufs_force
  lvs_netlink_monitor_rcv_bufs lvs_netlink_monitor_rcv_bufs_force rs_init_notifies no_checker_emails
  vrrp_rx_bufs_policy@2.0.3 vrrp_rx_bufs_multiplier@2.0.3 vrrp_startup_delay@2.0.14
  vrrp_delay_after_boot@2.4.0 log_unknown_vrids@2.0.16 vrrp_owner_ignore_adverts@2.3.3 vmac_prefix@2.2.0
  vmac_addr_prefix@2.2.0 umask@2.0.9 random_seed@2.0.15 reload_check_config@2.2.0 reload_time_file@2.1.0
  reload_repeat@2.1.0 reload_file@2.2.0 include_check@2.2.0 config_save_dir@2.2.3 tmp_config_directory@2.2.0
  data_use_instance@2.2.3 json_version@2.2.8 iproute_usr_dir@2.3.2 iproute_etc_dir@2.3.2
  state_dump_file@2.3.3 stats_dump_file@2.3.3 json_dump_file@2.3.3
}
track_group@2.0.3{
  group[]
}
static_ipaddress[] static_routes[] static_rules[]
vrrp_sync_group{
  group[] track_interface[] track_script[] track_file[] track_process[]@2.0.11 track_bfd[] notify_backup
  notify_master notify_fault notify_stop notify smtp_alert global_tracking sync_group_tracking_weight
  notify_priority_changes@2.2.0
}
garp_group{
  garp_interval gna_interval interface interfaces[]
}
linkbeat_interfaces[]@2.0.13
vrrp_instance{
  use_vmac use_vmac_addr@2.2.0 vmac_xmit_base use_ipvlan@2.0.17 unicast_peer[] unicast_fault_no_peer@2.2.5
  check_unicast_src@2.1.0 old_unicast_checksum native_ipv6 state interface vrf@2.2.5 dont_track_primary
  track_interface[] track_script[] track_file[] track_process[]@2.0.11 track_bfd[] mcast_src_ip
  unicast_src_ip mcast_dst_ip@2.2.5 track_src_ip virtual_router_id unicast_ttl@2.1.0 version priority
  advert_int virtual_ipaddress[] virtual_ipaddress_excluded[] no_virtual_ipaddress@2.2.8 promote_secondaries
  linkbeat_use_polling v3_checksum_as_v2@2.2.8 virtual_routes[] virtual_rules[] accept no_accept
  skip_check_adv_addr strict_mode preempt nopreempt preempt_delay debug notify_backup notify_master
  notify_fault notify_stop notify_deleted@2.1.0 notify notify_master_rx_lower_pri@2.0.6 smtp_alert
  notify_priority_changes@2.0.16 lvs_sync_daemon_interface garp_master_delay garp_master_refresh
  garp_master_repeat garp_master_refresh_repeat garp_lower_prio_delay garp_lower_prio_repeat
  down_timer_adverts@2.2.3 timer_expired_backup@2.2.8 thread_timer_expired@2.3.2 garp_extra_if@2.2.3
  vmac_garp_intvl@2.2.0 lower_prio_no_advert higher_prio_send_advert owner_ignore_adverts@2.3.3
  kernel_rx_buf_size@2.0.3
  authentication{
    auth_type auth_pass
  }
  auth_hmac@2.4.0{
    key active_key time_window anti_replay mode
  }
}
vrrp_script{
  script interval timeout weight rise fall user init_fail
}
vrrp_track_process@2.0.11{
  process param_match@2.0.16 weight quorum quorum_max@2.0.16 delay
  terminate_delay@2.0.16 fork_delay@2.0.16 full_command
}
interface_up_down_delays[]@2.2.3
SSL{
  password ca certificate key
}
virtual_server_group[]
virtual_server{
  ip_family retry delay_before_retry warmup connect_timeout@2.0.13 delay_loop inhibit_on_failure lb_algo
  lvs_sched hashed ops flag-1 flag-2 flag-3 sh-port sh-fallback mh-port@2.0.20 mh-fallback@2.0.20 lb_kind
  lvs_method persistence_engine persistence_timeout persistence_granularity protocol ha_suspend smtp_alert
  virtualhost snmp_name@2.2.3 alpha omega quorum_up quorum_down quorum hysteresis weight sorry_server
  sorry_server_inhibit sorry_server_lvs_method
  real_server{
    weight lvs_method uthreshold lthreshold inhibit_on_failure notify_up notify_down alpha retry
    delay_before_retry warmup connect_timeout@2.0.13 delay_loop smtp_alert virtualhost snmp_name@2.2.3
    MISC_CHECK{
      ${COMMON} misc_path misc_timeout misc_dynamic user
    }
    SMTP_CHECK{
      helo_name ${CONNECT} ${COMMON}
      host{
        ${CONNECT} ${COMMON}
      }
    }
    TCP_CHECK{
      ${CONNECT} ${COMMON}
    }
    PING_CHECK@2.1.0{
      ${CONNECT} ${COMMON}
    }
    UDP_CHECK@2.1.0{
      ${CONNECT} ${COMMON} payload@2.2.0 require_reply min_reply_length@2.2.0 max_reply_length@2.2.0
    }
    HTTP_GET{
      ${HTTP}
    }
    SSL_GET{
      ${HTTP}
    }
    DNS_CHECK{
      ${CONNECT} ${COMMON} type name
    }
    FILE_CHECK@2.1.0{
      track_file weight
    }
    BFD_CHECK{
      name alpha
    }
  }
}
bfd_instance{
  source_ip neighbor_ip neighbour_ip min_rx min_tx idle_tx multiplier passive ttl hoplimit max_hops
  multihop@2.2.8 weight vrrp checker
}
track_file@2.1.0{
  file weight init_file
}
vrrp_track_file{
  file weight init_file
}
`;

/** keepalived 1.3.5 (CentOS 7) */
const V1 = `
linkbeat_use_polling net_namespace namespace_with_ipsets use_pid_dir instance
global_defs{
  router_id notification_email_from smtp_server smtp_helo_name smtp_connect_timeout
  notification_email[w] default_interface lvs_timeouts lvs_flush lvs_sync_daemon vrrp_mcast_group4
  vrrp_mcast_group6 vrrp_garp_master_delay vrrp_garp_master_repeat vrrp_garp_master_refresh
  vrrp_garp_master_refresh_repeat vrrp_garp_lower_prio_delay vrrp_garp_lower_prio_repeat
  vrrp_garp_interval vrrp_gna_interval vrrp_lower_prio_no_advert vrrp_higher_prio_send_advert
  vrrp_version vrrp_iptables vrrp_ipsets vrrp_check_unicast_src vrrp_skip_check_adv_addr
  vrrp_strict vrrp_priority vrrp_no_swap checker_priority checker_no_swap snmp_socket enable_traps
  enable_snmp_keepalived enable_snmp_rfc enable_snmp_rfcv2 enable_snmp_rfcv3 enable_snmp_checker
  enable_dbus script_user enable_script_security
}
static_ipaddress[] static_routes[] static_rules[]
vrrp_sync_group{
  group[w] notify_backup notify_master notify_fault notify smtp_alert global_tracking
}
garp_group{
  garp_interval gna_interval interface interfaces[w]
}
vrrp_instance{
  use_vmac vmac_xmit_base unicast_peer[] native_ipv6 state interface dont_track_primary
  track_interface[] track_script[] mcast_src_ip unicast_src_ip virtual_router_id version priority
  advert_int virtual_ipaddress[] virtual_ipaddress_excluded[] promote_secondaries virtual_routes[]
  virtual_rules[] accept no_accept skip_check_adv_addr strict_mode preempt nopreempt preempt_delay
  debug notify_backup notify_master notify_fault notify_stop notify smtp_alert
  lvs_sync_daemon_interface garp_master_delay garp_master_refresh garp_master_repeat
  garp_master_refresh_repeat garp_lower_prio_delay garp_lower_prio_repeat lower_prio_no_advert
  higher_prio_send_advert
  authentication{
    auth_type auth_pass
  }
}
vrrp_script{
  script interval timeout weight rise fall user init_fail
}
SSL{
  password ca certificate key
}
virtual_server_group[]
virtual_server{
  ip_family delay_loop lb_algo lvs_sched hashed ops flag-1 flag-2 flag-3 sh-port sh-fallback
  lb_kind lvs_method persistence_engine persistence_timeout persistence_granularity protocol
  ha_suspend virtualhost alpha omega quorum_up quorum_down quorum hysteresis sorry_server
  sorry_server_inhibit
  real_server{
    weight uthreshold lthreshold inhibit_on_failure notify_up notify_down
    MISC_CHECK{
      misc_path misc_timeout misc_dynamic warmup user
    }
    SMTP_CHECK{
      helo_name warmup delay_before_retry retry connect_ip connect_port bindto bind_port
      connect_timeout fwmark
      host{
        connect_ip connect_port bindto bind_port connect_timeout fwmark
      }
    }
    TCP_CHECK{
      retry delay_before_retry connect_ip connect_port bindto bind_port connect_timeout fwmark
      warmup
    }
    HTTP_GET{
      connect_ip connect_port bindto bind_port connect_timeout fwmark warmup nb_get_retry
      delay_before_retry
      url{
        path digest status_code
      }
    }
    SSL_GET{
      connect_ip connect_port bindto bind_port connect_timeout fwmark warmup nb_get_retry
      delay_before_retry
      url{
        path digest status_code
      }
    }
    DNS_CHECK{
      connect_ip connect_port bindto bind_port connect_timeout fwmark retry type name
    }
  }
}
`;

function parseTables(text: string): KeywordTable {
  const root: KeywordTable = { name: '', keywords: new Map() };
  const stack = [root];
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (word === '}') {
      stack.pop();
      continue;
    }
    const m = /^([^[@{]+)(\[w?\])?(?:@([\d.]+))?(\{)?$/.exec(word);
    if (!m) throw new Error(`keyword table: cannot read '${word}'`);
    const [, name, values, since, open] = m;
    const spec: KeywordSpec = {
      block: open ? { name, keywords: new Map() } : null,
      values: values === '[w]' ? 'words' : values ? 'lines' : null,
      since: since ?? null,
    };
    stack[stack.length - 1].keywords.set(name, spec);
    if (spec.block) stack.push(spec.block);
  }
  return root;
}

const TABLES = { 1: parseTables(V1), 2: parseTables(V2) };

/** the keywords of the top level as keepalived `major` (release `version` when known) reads them */
export function rootTable(major: 1 | 2): KeywordTable {
  return TABLES[major];
}

/** the keyword `word` of a table as release `version` knows it (undefined: keepalived logs "Unknown keyword") */
export function lookupKeyword(table: KeywordTable, word: string, version: string | null): KeywordSpec | undefined {
  const spec = table.keywords.get(word);
  if (!spec || !spec.since || !version) return spec;
  return versionAtLeast(version, spec.since) ? spec : undefined;
}

/**
 * blocks a handler skips (skip_block: keepalived counts braces to the end of the block and reads nothing of it):
 * a vrrp_instance, vrrp_sync_group or track_group needs exactly one name, not used by another of its kind
 */
export const NAMED_BLOCKS = new Set(['vrrp_instance', 'vrrp_sync_group', 'track_group']);
