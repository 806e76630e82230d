-- Argo CD health check for cas.aliyuncsr.dev/AliyunCertificate, from the kstatus conditions the
-- operator writes. Install it under
-- resource.customizations.health.cas.aliyuncsr.dev_AliyunCertificate in argocd-cm.
--   Healthy:     Ready=True for the observed generation: the Secret holds the certificate of
--                spec.instanceId (reason Issued), or it does and ends soon (reason Expiring: still
--                serving; the message says when, and the renewal is a new spec.instanceId).
--   Degraded:    Stalled=True: nothing changes without a person (the message says what to fix).
--   Progressing: no status yet, a generation the operator has not observed, Reconciling=True
--                (AwaitingCsr, Applying, AwaitingValidation, Issuing, a renewal under way), or
--                Ready not True.
local hs = {}
if obj.status == nil or obj.status.conditions == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to report status"
  return hs
end
local generation = obj.metadata.generation
local observed = obj.status.observedGeneration
if generation ~= nil and (observed == nil or observed < generation) then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to observe generation " .. tostring(generation)
  return hs
end
local ready, stalled, reconciling
for _, condition in ipairs(obj.status.conditions) do
  if condition.type == "Ready" then
    ready = condition
  elseif condition.type == "Stalled" then
    stalled = condition
  elseif condition.type == "Reconciling" then
    reconciling = condition
  end
end
if stalled ~= nil and stalled.status == "True" then
  hs.status = "Degraded"
  hs.message = (stalled.reason or "Stalled") .. ": " .. (stalled.message or "")
  return hs
end
if ready ~= nil and ready.status == "True" and not (reconciling ~= nil and reconciling.status == "True") then
  hs.status = "Healthy"
  if ready.reason == "Expiring" then
    hs.message = "Expiring: " .. (ready.message or "")
  else
    hs.message = ready.message or "Ready"
  end
  return hs
end
hs.status = "Progressing"
if ready ~= nil then
  hs.message = (ready.reason or "NotReady") .. ": " .. (ready.message or "")
elseif reconciling ~= nil then
  hs.message = (reconciling.reason or "Reconciling") .. ": " .. (reconciling.message or "")
else
  hs.message = "Waiting for the Ready condition"
end
return hs
