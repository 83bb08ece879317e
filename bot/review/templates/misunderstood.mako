<%inherit file="base.mako"/>
<%namespace file="_correct.mako" import="correction_form"/>
<%def name="title()">Anlaşılamayanlar</%def>
<%
  def topic_of(intent, faq_key):
      return f"faq/{faq_key}" if faq_key else intent
%>
<h1>Anlaşılamayan mesajlar</h1>
<p>Geri dönüşe düşen veya güveni ${"%.2f" % threshold} altında kalan, henüz ele alınmamış kullanıcı mesajları;
en sık tekrarlananlar önce (Türkçe harfler ve büyük/küçük harf farkı yok sayılarak gruplanır).</p>
% if not groups:
<p class="empty">Ele alınmamış mesaj yok.</p>
% endif
<table class="list" id="misunderstood">
  <thead><tr><th>Adet</th><th>Mesaj</th><th>Tahmin</th><th>Doğru niyet / konu</th></tr></thead>
  <tbody>
  % for g in groups:
  <tr>
    <td>${g.count}</td>
    <td><a href="/conversations/${g.conversation_id}#m${g.message_id}">${g.text}</a></td>
    <td>${topic_of(g.intent, g.faq_key) or "—"} (${"—" if g.confidence is None else "%.2f" % g.confidence})</td>
    <td>${correction_form(g.message_id, topic_of(g.intent, g.faq_key), topics, csrf, "/misunderstood")}</td>
  </tr>
  % endfor
  </tbody>
</table>
