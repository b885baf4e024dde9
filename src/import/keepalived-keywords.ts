/**
 * The keywords keepalived knows, per major version: the names its parsers install (install_keyword_root /
 * install_keyword in keepalived 1.3.5 and 2.2.7: core/global_parser.c, vrrp/vrrp_parser.c, check/check_parser.c,
 * bfd/bfd_parser.c, trackers/track_file.c). A keyword keepalived does not know is logged ("Unknown keyword") and
 * ignored; if it has a `{ }` block, keepalived ignores the `{` too, reads the block's lines as keywords of the
 * enclosing block and its `}` ends the enclosing block early.
 */

export type KeywordSection = 'root' | 'global_defs' | 'vrrp_instance' | 'vrrp_script' | 'vrrp_sync_group';

function words(s: string): Set<string> {
  return new Set(s.split(/\s+/).filter(Boolean));
}

const KNOWN: Record<1 | 2, Record<KeywordSection, Set<string>>> = {
  1: {
    root: words(`
      SSL virtual_server_group virtual_server linkbeat_use_polling net_namespace
      namespace_with_ipsets use_pid_dir instance global_defs static_ipaddress static_routes
      static_rules vrrp_sync_group garp_group vrrp_instance vrrp_script
    `),
    global_defs: words(`
      router_id notification_email_from smtp_server smtp_helo_name smtp_connect_timeout
      notification_email default_interface lvs_timeouts lvs_flush lvs_sync_daemon vrrp_mcast_group4
      vrrp_mcast_group6 vrrp_garp_master_delay vrrp_garp_master_repeat vrrp_garp_master_refresh
      vrrp_garp_master_refresh_repeat vrrp_garp_lower_prio_delay vrrp_garp_lower_prio_repeat
      vrrp_garp_interval vrrp_gna_interval vrrp_lower_prio_no_advert vrrp_higher_prio_send_advert
      vrrp_version vrrp_iptables vrrp_ipsets vrrp_check_unicast_src vrrp_skip_check_adv_addr
      vrrp_strict vrrp_priority vrrp_no_swap checker_priority checker_no_swap snmp_socket
      enable_traps enable_snmp_keepalived enable_snmp_rfc enable_snmp_rfcv2 enable_snmp_rfcv3
      enable_snmp_checker enable_dbus script_user enable_script_security
    `),
    vrrp_instance: words(`
      use_vmac vmac_xmit_base unicast_peer native_ipv6 state interface dont_track_primary
      track_interface track_script mcast_src_ip unicast_src_ip virtual_router_id version priority
      advert_int virtual_ipaddress virtual_ipaddress_excluded promote_secondaries virtual_routes
      virtual_rules accept no_accept skip_check_adv_addr strict_mode preempt nopreempt preempt_delay
      debug notify_backup notify_master notify_fault notify_stop notify smtp_alert
      lvs_sync_daemon_interface garp_master_delay garp_master_refresh garp_master_repeat
      garp_master_refresh_repeat garp_lower_prio_delay garp_lower_prio_repeat lower_prio_no_advert
      higher_prio_send_advert authentication
    `),
    vrrp_script: words(`
      script interval timeout weight rise fall user init_fail
    `),
    vrrp_sync_group: words(`
      group notify_backup notify_master notify_fault notify smtp_alert global_tracking
    `),
  },
  2: {
    root: words(`
      bfd_instance SSL virtual_server_group virtual_server linkbeat_use_polling net_namespace
      net_namespace_ipvs namespace_with_ipsets use_pid_dir instance child_wait_time global_defs
      track_file vrrp_track_file track_group static_ipaddress static_routes static_rules
      vrrp_sync_group garp_group linkbeat_interfaces vrrp_instance vrrp_script vrrp_track_process
      interface_up_down_delays
    `),
    global_defs: words(`
      process_names process_name vrrp_process_name checker_process_name lvs_process_name
      bfd_process_name router_id notification_email_from smtp_server smtp_helo_name
      smtp_connect_timeout notification_email smtp_alert startup_script startup_script_timeout
      shutdown_script shutdown_script_timeout max_auto_priority min_auto_priority_delay
      smtp_alert_vrrp smtp_alert_checker checker_log_all_failures dynamic_interfaces no_email_faults
      default_interface disable_local_igmp lvs_timeouts lvs_flush lvs_flush_on_stop lvs_flush_onstop
      lvs_sync_daemon vrrp_mcast_group4 vrrp_mcast_group6 vrrp_garp_master_delay
      vrrp_garp_master_repeat vrrp_garp_master_refresh vrrp_garp_master_refresh_repeat
      vrrp_garp_lower_prio_delay vrrp_garp_lower_prio_repeat vrrp_down_timer_adverts
      vrrp_garp_interval vrrp_gna_interval vrrp_min_garp vrrp_garp_extra_if vrrp_vmac_garp_intvl
      vrrp_lower_prio_no_advert vrrp_higher_prio_send_advert vrrp_version vrrp_iptables vrrp_ipsets
      nftables nftables_priority nftables_ifindex nftables_ipvs nftables_ipvs_priority
      nftables_ipvs_start_fwmark nftables_counters vrrp_check_unicast_src vrrp_skip_check_adv_addr
      vrrp_strict vrrp_priority vrrp_no_swap vrrp_rt_priority vrrp_cpu_affinity vrrp_rlimit_rttime
      vrrp_rlimit_rtime notify_fifo notify_fifo_script vrrp_notify_fifo vrrp_notify_fifo_script
      vrrp_notify_priority_changes fifo_write_vrrp_states_on_reload lvs_notify_fifo
      lvs_notify_fifo_script checker_priority checker_no_swap checker_rt_priority
      checker_cpu_affinity checker_rlimit_rttime checker_rlimit_rtime bfd_priority bfd_no_swap
      bfd_rt_priority bfd_cpu_affinity bfd_rlimit_rttime bfd_rlimit_rtime snmp_socket enable_traps
      enable_snmp_vrrp enable_snmp_keepalived enable_snmp_rfc enable_snmp_rfcv2 enable_snmp_rfcv3
      enable_snmp_checker enable_dbus dbus_service_name script_user enable_script_security
      vrrp_netlink_cmd_rcv_bufs vrrp_netlink_cmd_rcv_bufs_force vrrp_netlink_monitor_rcv_bufs
      vrrp_netlink_monitor_rcv_bufs_force process_monitor_rcv_bufs process_monitor_rcv_bufs_force
      lvs_netlink_cmd_rcv_bufs lvs_netlink_cmd_rcv_bufs_force lvs_netlink_monitor_rcv_bufs
      lvs_netlink_monitor_rcv_bufs_force rs_init_notifies no_checker_emails vrrp_rx_bufs_policy
      vrrp_rx_bufs_multiplier vrrp_startup_delay log_unknown_vrids vmac_prefix vmac_addr_prefix
      umask random_seed reload_check_config reload_time_file reload_repeat reload_file include_check
      config_save_dir tmp_config_directory data_use_instance
    `),
    vrrp_instance: words(`
      use_vmac use_vmac_addr vmac_xmit_base use_ipvlan unicast_peer unicast_fault_no_peer
      check_unicast_src old_unicast_checksum native_ipv6 state interface vrf dont_track_primary
      track_interface track_script track_file track_process track_bfd mcast_src_ip unicast_src_ip
      mcast_dst_ip track_src_ip virtual_router_id unicast_ttl version priority advert_int
      virtual_ipaddress virtual_ipaddress_excluded promote_secondaries linkbeat_use_polling
      virtual_routes virtual_rules accept no_accept skip_check_adv_addr strict_mode preempt
      nopreempt preempt_delay debug notify_backup notify_master notify_fault notify_stop
      notify_deleted notify notify_master_rx_lower_pri smtp_alert notify_priority_changes
      lvs_sync_daemon_interface garp_master_delay garp_master_refresh garp_master_repeat
      garp_master_refresh_repeat garp_lower_prio_delay garp_lower_prio_repeat down_timer_adverts
      garp_extra_if vmac_garp_intvl lower_prio_no_advert higher_prio_send_advert kernel_rx_buf_size
      authentication
    `),
    vrrp_script: words(`
      script interval timeout weight rise fall user init_fail
    `),
    vrrp_sync_group: words(`
      group track_interface track_script track_file track_process track_bfd notify_backup
      notify_master notify_fault notify_stop notify smtp_alert global_tracking
      sync_group_tracking_weight notify_priority_changes
    `),
  },
};

/** does keepalived `major` know `keyword` in `section` */
export function knownKeyword(major: 1 | 2, section: KeywordSection, keyword: string): boolean {
  return KNOWN[major][section].has(keyword);
}

/** the `{ }` blocks of these keywords hold values, one per line (not keywords) */
export const VALUE_BLOCKS = new Set([
  'notification_email',
  'virtual_ipaddress',
  'virtual_ipaddress_excluded',
  'track_interface',
  'track_script',
  'track_file',
  'track_process',
  'track_bfd',
  'unicast_peer',
  'virtual_routes',
  'virtual_rules',
  'group',
  'static_ipaddress',
  'static_routes',
  'static_rules',
  'linkbeat_interfaces',
  'interfaces',
]);

/**
 * Keywords whose `{ }` block keepalived reads whatever follows them: with the `{` missing it logs "Missing '{'"
 * and still reads the next lines as the block. (Keywords of the checkers are left out: read as written.)
 */
export const SUB_BLOCKS = new Set([
  'global_defs',
  'vrrp_instance',
  'vrrp_script',
  'vrrp_sync_group',
  'authentication',
  'garp_group',
  'virtual_server',
  'real_server',
]);

/**
 * keepalived 1.x reads the block of these keywords line by line until a line starting with `}`, without looking for
 * the `{` at all (alloc_value_block): what follows the keyword on its line is ignored, a `{` on the next line is read
 * as a value
 */
export const LINE_VALUE_BLOCKS_1X = new Set([
  'virtual_ipaddress',
  'virtual_ipaddress_excluded',
  'track_interface',
  'track_script',
  'unicast_peer',
  'virtual_routes',
  'virtual_rules',
  'static_ipaddress',
  'static_routes',
  'static_rules',
  'virtual_server_group',
]);

/** keepalived 1.x read_value_block: `{` expected first, values are words, a `}` anywhere ends the block */
export const WORD_VALUE_BLOCKS_1X = new Set(['notification_email', 'group', 'interfaces']);
