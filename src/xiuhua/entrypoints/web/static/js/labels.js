// zh-CN labels and colours of states, actions and roles (mirrors xiuhua.cases.domain.workflow).
export const STATE_LABELS = {
  reported: "待受理", verifying: "核实中", accepted: "待立案", filed: "待派遣", dispatched: "处置中",
  return_requested: "回退申请中", extension_requested: "延期申请中", park_requested: "挂账申请中", parked: "已挂账",
  disposed: "待派发核查", checking: "核查中", checked: "待结案", self_disposed: "自处理待审核",
  closed: "已结案", voided: "已作废",
};
export const STATE_COLORS = {
  reported: "#1f78b4", verifying: "#6a3d9a", accepted: "#a6cee3", filed: "#b2df8a", dispatched: "#ff7f00",
  return_requested: "#fb9a99", extension_requested: "#fdbf6f", park_requested: "#cab2d6", parked: "#999999",
  disposed: "#33a02c", checking: "#b15928", checked: "#17becf", self_disposed: "#bcbd22",
  closed: "#2ca02c", voided: "#7f7f7f",
};
export const OPEN_STATES = Object.keys(STATE_LABELS).filter((s) => s !== "closed" && s !== "voided");
export const ACTION_LABELS = {
  report: "上报", accept: "受理", send_verify: "派发核实", verify: "核实属实", refute: "核实不属实", file: "立案",
  void: "作废", dispatch: "派遣", return: "回退", request_extension: "申请延期", request_park: "申请挂账",
  approve: "批准", reject: "驳回", resume: "挂账恢复", feedback: "处置反馈", send_check: "派发核查",
  check_pass: "核查通过", check_fail: "核查不通过", rework: "返工", close: "结案", urge: "督办",
  self_dispose: "自处理",
};
/** Actions whose form asks for a reason (the workflow refuses them without one). */
export const NEEDS_REASON = new Set([
  "refute", "void", "return", "request_extension", "request_park", "reject", "resume", "check_fail", "rework", "urge",
]);
/** Actions whose form takes photos. */
export const TAKES_PHOTOS = new Set(["verify", "refute", "feedback", "check_pass", "check_fail"]);
export const ROLE_LABELS = {
  supervisor: "监督员", acceptor: "受理员", shift_leader: "值班长", dispatcher: "派遣员", handler: "部门处置员",
  leader: "领导", admin: "管理员", citizen: "市民",
};
export const STEP_LABELS = {
  accept: "受理", verify: "核实", file: "立案", dispatch: "派遣", dispose: "处置", check: "核查", close: "结案",
};
export const SOURCE_LABELS = {
  supervisor: "监督员上报", public: "公众举报", hotline: "12345/12319 热线", video: "视频智能发现",
  sensor: "物联感知", leader: "领导交办", transfer: "部门移交", self_disposal: "自处理",
};
/** Where each role starts after logging in. */
export function homeOf(roles) {
  if (roles.includes("citizen")) return "citizen.html";
  if (roles.includes("supervisor")) return "field.html";
  if (roles.includes("leader")) return "command.html";
  if (roles.includes("admin")) return "admin.html";
  return "work.html";
}
