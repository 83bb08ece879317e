<%inherit file="base.mako"/>
<%namespace file="_correct.mako" import="correction_form"/>
<%def name="title()">Konuşma ${view.row.id}</%def>
<%
  import zoneinfo
  tz = zoneinfo.ZoneInfo("Europe/Istanbul")
  def fmt_time(value):
      return value.astimezone(tz).strftime("%d.%m.%Y %H:%M:%S")
  def topic_of(intent, faq_key):
      return f"faq/{faq_key}" if faq_key else intent
  row = view.row
  here = f"/conversations/{row.id}"
%>
<h1>Konuşma ${row.id}</h1>
<p class="meta">
  ${channel_labels.get(row.channel, row.channel)} · ${fmt_time(row.started_at)} – ${fmt_time(view.last_event_at)}
  · ${row.turns} kullanıcı mesajı · ${"bağlı hesap" if row.linked else "anonim"}
  · <a href="${here}/export.json">JSON</a> · <a href="${here}/export.csv">CSV</a>
</p>
<section class="actions">
  <form method="post" action="${here}/reviewed" class="inline">
    <input type="hidden" name="csrf" value="${csrf}">
    % if row.reviewed:
    <input type="hidden" name="reviewed" value="0">
    <span class="flag ok">incelendi</span> <button type="submit">İncelenmedi olarak işaretle</button>
    % else:
    <input type="hidden" name="reviewed" value="1">
    <button type="submit" id="mark-reviewed">İncelendi olarak işaretle</button>
    % endif
  </form>
  <form method="post" action="${here}/tags" class="inline">
    <input type="hidden" name="csrf" value="${csrf}">
    <input name="tag" placeholder="etiket" maxlength="50" aria-label="Etiket">
    <button type="submit">Etiket ekle</button>
  </form>
  % for tag in row.tags:
  <form method="post" action="${here}/tags/remove" class="inline">
    <input type="hidden" name="csrf" value="${csrf}">
    <input type="hidden" name="tag" value="${tag}">
    <span class="flag tag">${tag}</span><button type="submit" title="Etiketi kaldır" aria-label="Etiketi kaldır: ${tag}">×</button>
  </form>
  % endfor
  % if staff.is_admin:
  <form method="post" action="${here}/delete" class="inline danger">
    <input type="hidden" name="csrf" value="${csrf}">
    <button type="submit">Konuşmayı tamamen sil</button>
  </form>
  % endif
</section>
<section class="chat" id="transcript">
% for m in view.messages:
  % if m.kind == "user":
  <div class="msg user ${'low' if m.fell_back or (m.confidence is not None and m.confidence < threshold) else ''}" id="m${m.id}">
    <div class="text">${m.text}</div>
    <div class="nlu">
      <span class="intent">${topic_of(m.intent, m.faq_key) or "—"}</span>
      <span class="conf">güven ${"—" if m.confidence is None else "%.2f" % m.confidence}</span>
      % if m.corrected_intent:
      <span class="flag ok">düzeltildi: ${topic_of(m.corrected_intent, m.corrected_faq_key)}</span>
      % endif
      · ${fmt_time(m.sent_at)}
    </div>
    ${correction_form(m.id, topic_of(m.corrected_intent, m.corrected_faq_key) or topic_of(m.intent, m.faq_key), topics, csrf, here + "#m" + str(m.id))}
  </div>
  % else:
  <div class="msg bot">
    <div class="text">${m.text}</div>
    <div class="nlu"><span class="action">${m.action or "—"}</span> · ${fmt_time(m.sent_at)}</div>
  </div>
  % endif
% endfor
</section>
<section class="notes">
  <h2>Notlar</h2>
  % for note in view.notes:
  <div class="note"><strong>${note.author or "silinmiş kullanıcı"}</strong> · ${fmt_time(note.created_at)}<p>${note.text}</p></div>
  % endfor
  <form method="post" action="${here}/notes">
    <input type="hidden" name="csrf" value="${csrf}">
    <textarea name="note" rows="3" maxlength="4000" aria-label="Not"></textarea>
    <button type="submit">Not ekle</button>
  </form>
</section>
