<?php
// PHP's SoapClient, set up from the served WSDL the way Marketo's PHP samples do it:
// writes leads, reads them back (getLead, getMultipleLeads with paging through both a
// LeadKeySelector and a LastUpdateAtSelector) and uses listOperation. Prints one JSON object.
$endpoint = getenv('LEADSYNC_ENDPOINT');
$userId = getenv('LEADSYNC_USER_ID');
$secretKey = getenv('LEADSYNC_ENCRYPTION_KEY');
$tag = getenv('LEADSYNC_TAG');
$listName = getenv('LEADSYNC_LIST');
$ns = "http://www.marketo.com/mktows/";

function authHeader($ns, $userId, $secretKey) {
    $dtObj = new DateTime('now', new DateTimeZone("America/Los_Angeles"));
    $timeStamp = $dtObj->format(DATE_W3C);
    $attrs = new stdClass();
    $attrs->mktowsUserId = $userId;
    $attrs->requestSignature = hash_hmac('sha1', $timeStamp . $userId, $secretKey);
    $attrs->requestTimestamp = $timeStamp;
    return new SoapHeader($ns, 'AuthenticationHeader', $attrs);
}

function call($client, $operation, $params) {
    global $ns, $userId, $secretKey;
    return $client->__soapCall($operation, array($params), null, authHeader($ns, $userId, $secretKey));
}

function ids($result) {
    $found = array();
    if (isset($result->leadRecordList->leadRecord)) {
        foreach ($result->leadRecordList->leadRecord as $lead) {
            $found[] = $lead->Id;
        }
    }
    return $found;
}

function pages($client, $selector) {
    $params = new stdClass();
    $params->leadSelector = $selector;
    $params->batchSize = 2;
    $pages = array();
    $remaining = array();
    do {
        $result = call($client, 'getMultipleLeads', $params)->result;
        $pages[] = ids($result);
        $remaining[] = $result->remainingCount;
        $params->streamPosition = $result->newStreamPosition;
    } while ($result->remainingCount > 0);
    return array("pages" => $pages, "remaining" => $remaining);
}

$client = new SoapClient($endpoint . "?WSDL", array(
    "location" => $endpoint,
    "connection_timeout" => 15,
    "features" => SOAP_SINGLE_ELEMENT_ARRAYS,
));
$out = array();
$since = (new DateTime('now', new DateTimeZone("UTC")))->modify('-1 second')->format(DATE_W3C);

// Write five leads.
$emails = array();
$records = array();
for ($i = 0; $i < 5; ++$i) {
    $emails[] = "$tag-$i@example.com";
    $first = new stdClass();
    $first->attrName = "FirstName";
    $first->attrValue = "Php$i";
    $score = new stdClass();
    $score->attrName = "LeadScore";
    $score->attrValue = (string)(10 * $i);
    $leadRecord = new stdClass();
    $leadRecord->Email = $emails[$i];
    $leadRecord->leadAttributeList = new stdClass();
    $leadRecord->leadAttributeList->attribute = array($first, $score);
    $records[] = $leadRecord;
}
$params = new stdClass();
$params->leadRecordList = new stdClass();
$params->leadRecordList->leadRecord = $records;
$params->dedupEnabled = true;
$created = array();
foreach (call($client, 'syncMultipleLeads', $params)->result->syncStatusList->syncStatus as $status) {
    $created[] = $status->leadId;
}
$out["created"] = $created;

// getLead by email.
$params = new stdClass();
$params->leadKey = new stdClass();
$params->leadKey->keyType = "EMAIL";
$params->leadKey->keyValue = $emails[1];
$result = call($client, 'getLead', $params)->result;
$lead = $result->leadRecordList->leadRecord[0];
$attributes = array();
foreach ($lead->leadAttributeList->attribute as $attr) {
    $attributes[$attr->attrName] = array($attr->attrType, $attr->attrValue);
}
$out["getLead"] = array(
    "count" => $result->count,
    "id" => $lead->Id,
    "email" => $lead->Email,
    "attributes" => $attributes,
);

// getMultipleLeads, paging through a LeadKeySelector and a LastUpdateAtSelector.
$keys = new stdClass();
$keys->keyType = "EMAIL";
$keys->keyValues = new stdClass();
$keys->keyValues->stringItem = $emails;
$out["byKeys"] = pages($client, new SoapVar($keys, SOAP_ENC_OBJECT, "LeadKeySelector", $ns));
$window = new stdClass();
$window->oldestUpdatedAt = $since;
$out["byTime"] = pages($client, new SoapVar($window, SOAP_ENC_OBJECT, "LastUpdateAtSelector", $ns));

// listOperation: add two leads, then ask about three.
function listOperation($client, $operation, $listName, $ids) {
    $request = new stdClass();
    $request->listOperation = $operation;
    $request->listKey = new stdClass();
    $request->listKey->keyType = "MKTOLISTNAME";
    $request->listKey->keyValue = $listName;
    $keys = array();
    foreach ($ids as $id) {
        $keys[] = array("keyType" => "IDNUM", "keyValue" => (string)$id);
    }
    $request->listMemberList = new stdClass();
    $request->listMemberList->leadKey = $keys;
    $request->strict = false;
    $result = call($client, 'listOperation', $request)->result;
    $statuses = null;
    if (isset($result->statusList->leadStatus)) {
        $statuses = array();
        foreach ($result->statusList->leadStatus as $status) {
            $statuses[] = array($status->leadKey->keyValue, $status->status);
        }
    }
    return array("success" => $result->success, "statuses" => $statuses);
}
$out["add"] = listOperation($client, "ADDTOLIST", $listName, array($created[0], $created[1]));
$out["member"] = listOperation(
    $client, "ISMEMBEROFLIST", $listName, array($created[0], $created[1], $created[2])
);
$params = new stdClass();
$params->leadSelector = new SoapVar(
    (object)array("staticListName" => $listName), SOAP_ENC_OBJECT, "StaticListSelector", $ns
);
$out["listMembers"] = ids(call($client, 'getMultipleLeads', $params)->result);

echo json_encode($out), "\n";
